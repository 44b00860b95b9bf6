import { describe, expect, it } from 'vitest';
import { coalesceByKey } from './subscription-sync.js';

/** A run per call of `go`, each held until released, recording its key and arg. */
function heldRuns() {
  const started: { key: string; arg?: string; read(): void; release(fail?: boolean): void }[] = [];
  const run = (key: string, arg: string | undefined, reading: () => void) =>
    new Promise<string>((resolve, reject) => {
      started.push({
        key,
        ...(arg === undefined ? {} : { arg }),
        read: reading,
        release: (fail) =>
          fail ? reject(new Error(`run ${started.length} failed`)) : resolve(`${key}:${arg}`),
      });
    });
  return { started, go: coalesceByKey(run) };
}

describe('coalesceByKey', () => {
  it('calls made before a run reads share it', async () => {
    const { started, go } = heldRuns();
    const first = go('sub_1', 'a');
    const second = go('sub_1', 'b');
    expect(started).toHaveLength(1);
    started[0]?.release();
    expect(await Promise.all([first, second])).toEqual(['sub_1:a', 'sub_1:a']);
  });

  it('a call made once the run reads starts its own at once (no wait for a slow read)', async () => {
    const { started, go } = heldRuns();
    const first = go('sub_1', 'a');
    started[0]?.read();
    const second = go('sub_1', 'b');
    const third = go('sub_1', 'c');
    // The second joined nobody (the first was reading); the third joined the second, not yet reading.
    expect(started.map((s) => s.arg)).toEqual(['a', 'b']);
    started[1]?.release();
    expect(await Promise.all([second, third])).toEqual(['sub_1:b', 'sub_1:b']);
    started[0]?.release();
    expect(await first).toBe('sub_1:a');
    // Nothing open: the next call runs.
    const fourth = go('sub_1', 'd');
    expect(started).toHaveLength(3);
    started[2]?.release();
    expect(await fourth).toBe('sub_1:d');
  });

  it('other keys run alongside', async () => {
    const { started, go } = heldRuns();
    const one = go('sub_1', 'a');
    const two = go('sub_2', 'a');
    expect(started.map((s) => s.key)).toEqual(['sub_1', 'sub_2']);
    for (const s of started) s.release();
    expect(await Promise.all([one, two])).toEqual(['sub_1:a', 'sub_2:a']);
  });

  it('a failed run fails the calls it carried; the next call runs again', async () => {
    const { started, go } = heldRuns();
    const first = go('sub_1', 'a');
    const joined = go('sub_1', 'b');
    started[0]?.release(true);
    await expect(first).rejects.toThrow('run 1 failed');
    await expect(joined).rejects.toThrow('run 1 failed');
    const again = go('sub_1', 'c');
    expect(started).toHaveLength(2);
    started[1]?.release();
    expect(await again).toBe('sub_1:c');
  });
});
