import { describe, expect, it } from 'vitest';
import { coalesceByKey, type SharedRunOptions } from './shared-runs.js';

/** A run per call of `go`, each held until released, recording its key and arg. */
function heldRuns(options?: SharedRunOptions<string>) {
  const started: {
    key: string;
    arg?: string;
    read(readAt?: number): void;
    release(fail?: boolean): void;
  }[] = [];
  // A clock the test sets: read(t) begins a run's read at time t.
  let clock = 0;
  const run = (key: string, arg: string | undefined, reading: () => void) =>
    new Promise<string>((resolve, reject) => {
      started.push({
        key,
        ...(arg === undefined ? {} : { arg }),
        read: (readAt = 0) => {
          clock = readAt;
          reading();
        },
        release: (fail) =>
          fail ? reject(new Error(`run ${started.length} failed`)) : resolve(`${key}:${arg}`),
      });
    });
  return { started, go: coalesceByKey(run, { ...options, now: () => clock }) };
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

  it('a call needing a read after its moment joins a run already reading since later', async () => {
    const { started, go } = heldRuns();
    const first = go('sub_1', 'a');
    started[0]?.read(1_000);
    // An event received at 900 ms: the read that began at 1,000 ms covers it.
    const covered = go('sub_1', 'b', 900);
    // One received at 1,000 ms (or later) is not covered: it needs a read of its own.
    const fresh = go('sub_1', 'c', 1_000);
    expect(started.map((s) => s.arg)).toEqual(['a', 'c']);
    started[0]?.release();
    started[1]?.release();
    expect(await Promise.all([first, covered, fresh])).toEqual(['sub_1:a', 'sub_1:a', 'sub_1:c']);
  });

  it('a finished run serves later calls whose moment came before its read; others run', async () => {
    const { started, go } = heldRuns();
    const first = go('sub_1', 'a');
    started[0]?.read(1_000);
    started[0]?.release();
    expect(await first).toBe('sub_1:a');
    expect(await go('sub_1', 'b', 500)).toBe('sub_1:a');
    expect(started).toHaveLength(1);
    // No moment given (an admin or user action): always a read after the call.
    const action = go('sub_1', 'c');
    const later = go('sub_1', 'd', 1_500);
    expect(started.map((s) => s.arg)).toEqual(['a', 'c']);
    started[1]?.read(2_000);
    started[1]?.release();
    expect(await Promise.all([action, later])).toEqual(['sub_1:c', 'sub_1:c']);
    expect(await go('sub_1', 'e', 1_900)).toBe('sub_1:c');
    expect(started).toHaveLength(2);
  });

  it('never reuses a failed run, nor a result the caller says not to', async () => {
    const { started, go } = heldRuns({ reusable: (result) => !result.endsWith(':unmapped') });
    const failing = go('sub_1', 'a');
    started[0]?.read(1_000);
    started[0]?.release(true);
    await expect(failing).rejects.toThrow('run 1 failed');
    const retry = go('sub_1', 'b', 500);
    expect(started).toHaveLength(2);
    started[1]?.read(2_000);
    started[1]?.release();
    await retry;
    const unmapped = go('sub_2', 'unmapped');
    started[2]?.read(2_000);
    started[2]?.release();
    expect(await unmapped).toBe('sub_2:unmapped');
    const again = go('sub_2', 'x', 500);
    expect(started).toHaveLength(4);
    started[3]?.release();
    expect(await again).toBe('sub_2:x');
  });

  it('forgets the oldest keys beyond what it remembers', async () => {
    const { started, go } = heldRuns({ remember: 2 });
    for (const key of ['sub_1', 'sub_2', 'sub_3']) {
      const p = go(key, 'a');
      started.at(-1)?.read(1_000);
      started.at(-1)?.release();
      await p;
    }
    expect(await go('sub_3', 'b', 500)).toBe('sub_3:a');
    expect(started).toHaveLength(3);
    const forgotten = go('sub_1', 'b', 500);
    expect(started).toHaveLength(4);
    started[3]?.release();
    expect(await forgotten).toBe('sub_1:b');
  });

  it('a run that reads at once (before it returns) is shared the same way', async () => {
    let clock = 0;
    let runs = 0;
    const go = coalesceByKey<never, number>(
      async (_key, _arg, reading) => {
        reading();
        runs++;
        await new Promise((r) => setTimeout(r, 5));
        return runs;
      },
      { now: () => clock },
    );
    clock = 10;
    const first = go('in_1', undefined, 5);
    expect(await Promise.all([first, go('in_1', undefined, 5)])).toEqual([1, 1]);
    expect(await go('in_1', undefined, 8)).toBe(1);
    expect(await go('in_1', undefined, 10)).toBe(2);
  });
});
