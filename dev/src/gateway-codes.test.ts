/** The problems both gateways answer with themselves have their /problems page, with the same status. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { problemDoc } from '@tollgate/service-kit';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('gateway problem codes', () => {
  it('nginx: every code it returns is in the catalogue, with its status and type', () => {
    const template = readFileSync(path.join(root, 'nginx/templates/default.conf.template'), 'utf8');
    const bodies = [...template.matchAll(/return (\d{3}) '(\{.*\})';/g)];
    expect(bodies.length).toBeGreaterThanOrEqual(4);
    for (const [, status, body] of bodies) {
      const problem = JSON.parse(body!.replace('$tollgate_request_id', 'x')) as Record<string, unknown>;
      const doc = problemDoc(String(problem.code));
      expect(doc, String(problem.code)).toBeDefined();
      expect(doc?.status).toBe(Number(status));
      expect(problem.type).toBe(`/problems/${problem.code}`);
    }
  });

  it('the dev gateway: every code it answers with is in the catalogue, with its status', () => {
    const source = readFileSync(path.join(import.meta.dirname, 'gateway.ts'), 'utf8');
    const calls = [...source.matchAll(/problem\(\s*reply,\s*(\d{3}),\s*'([a-z_]+)'/g)];
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const [, status, code] of calls) {
      expect(problemDoc(code!)?.status, code).toBe(Number(status));
    }
  });
});
