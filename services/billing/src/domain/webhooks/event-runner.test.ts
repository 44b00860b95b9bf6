import { describe, expect, it } from 'vitest';
import { microBatch } from './event-runner.js';

describe('microBatch', () => {
  it('hands the items asked for together to one flush, and each caller its own answer', async () => {
    const flushes: number[][] = [];
    const double = microBatch<number, number>(async (items) => {
      flushes.push(items);
      return new Map(items.filter((i) => i !== 3).map((i) => [i, i * 2]));
    }, 0);
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, undefined]);
    expect(await double(5)).toBe(10);
    expect(flushes).toEqual([[1, 2, 3], [5]]);
  });

  it('rejects every caller of a batch whose flush failed, and later batches start afresh', async () => {
    let fail = true;
    const op = microBatch<string, true>(async () => {
      if (fail) throw new Error('database gone');
      return undefined;
    }, 1);
    const results = await Promise.allSettled([op('a'), op('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(op('c')).resolves.toBeUndefined();
  });
});
