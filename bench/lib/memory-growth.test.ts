import { describe, expect, it } from 'vitest';
import { floorGrowth, type RssSample } from './memory-growth.js';

/** One sample a second from 0 to `seconds`, `mb(at)` each. */
const series = (seconds: number, mb: (at: number) => number): RssSample[] =>
  Array.from({ length: seconds + 1 }, (_, at) => ({ at, mb: mb(at) }));

describe('floorGrowth', () => {
  it('reads no growth from a flat floor with work-in-flight spikes on top', () => {
    // 150 MB kept; every other second one or two 20 MB argon2 buffers in flight, the last sample among them.
    const samples = series(30, (at) => 150 + (at % 2) * 20 * (1 + (at % 3 === 0 ? 1 : 0)));
    const growth = floorGrowth(samples, 5, 5)!;
    expect(growth.afterWarmup).toBe(150);
    expect(growth.atEnd).toBe(150);
    expect(growth.percent).toBe(0);
  });

  it('reads a leak: the floor rises with time', () => {
    const samples = series(30, (at) => 100 + at + (at % 2) * 20);
    const growth = floorGrowth(samples, 5, 5)!;
    expect(growth.afterWarmup).toBe(106); // lowest in [5, 10): at = 6
    expect(growth.atEnd).toBe(126); // lowest in [25, 30]: at = 26
    expect(growth.percent).toBeCloseTo(18.87, 2);
  });

  it('ignores the warm-up, however high it went', () => {
    const samples = series(30, (at) => (at < 5 ? 300 : 120));
    expect(floorGrowth(samples, 5, 5)!.percent).toBe(0);
  });

  it('answers null when the load was too short for both windows', () => {
    expect(
      floorGrowth(
        series(12, () => 100),
        5,
        5,
      ),
    ).toBeNull();
    expect(floorGrowth([], 5, 5)).toBeNull();
  });
});
