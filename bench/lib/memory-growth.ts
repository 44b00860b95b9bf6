/**
 * RSS growth under load, read from samples taken once a second.
 *
 * A service's RSS under load is what it keeps plus what the requests in
 * flight hold at that instant: auth's logins each hold argon2id's 19 MiB
 * buffer while they hash (UV_THREADPOOL_SIZE of them at once), so two
 * samples a second apart differ by up to ~40 MB with nothing kept. Growth is
 * therefore read from floors: the lowest sample in the window just after
 * the warm-up against the lowest in the last window of the same length. A
 * leak or a heap that keeps growing raises the floor; work in flight does not.
 */
export interface RssSample {
  /** Seconds since the load started. */
  at: number;
  mb: number;
}

export interface FloorGrowth {
  /** Lowest RSS in [warmup, warmup + window). */
  afterWarmup: number;
  /** Lowest RSS in the last `window` seconds of the samples. */
  atEnd: number;
  /** (atEnd - afterWarmup) / afterWarmup, in %. */
  percent: number;
}

/** Null when either window holds no sample (a load shorter than warm-up + two windows). */
export function floorGrowth(
  samples: RssSample[],
  warmupSeconds: number,
  windowSeconds: number,
): FloorGrowth | null {
  if (samples.length === 0) return null;
  const last = Math.max(...samples.map((s) => s.at));
  if (last - windowSeconds < warmupSeconds + windowSeconds) return null;
  const floor = (from: number, to: number) => {
    const inWindow = samples.filter((s) => s.at >= from && s.at < to).map((s) => s.mb);
    return inWindow.length > 0 ? Math.min(...inWindow) : null;
  };
  const afterWarmup = floor(warmupSeconds, warmupSeconds + windowSeconds);
  const atEnd = floor(last - windowSeconds, Number.POSITIVE_INFINITY);
  if (afterWarmup === null || atEnd === null || afterWarmup <= 0) return null;
  return { afterWarmup, atEnd, percent: ((atEnd - afterWarmup) / afterWarmup) * 100 };
}
