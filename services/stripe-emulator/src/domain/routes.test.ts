import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from './routes.js';

describe('the operation table', () => {
  it('has each method + path once', () => {
    const keys = OPERATIONS.map((o) => `${o.method} ${o.url}`);
    expect(keys.length).toBe(new Set(keys).size);
  });

  it('is the size the README says', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const stated = /\*\*Endpoints\.\*\* (\d+) operations/.exec(readme)?.[1];
    expect(Number(stated)).toBe(OPERATIONS.length);
  });
});
