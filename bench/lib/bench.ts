/**
 * What every bench shares: the machine it ran on, medians and percentiles,
 * and the one way a bench hands its rows back. Run alone (`npm run
 * bench:auth`), a bench prints its own table; run by `npm run bench`, it also
 * writes its report to the file named by BENCH_REPORT for the runner to
 * gather into one table.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { type BenchReport, formatNotes, formatTable, type Machine, type Row } from './report.js';

export function machine(): Machine {
  return {
    cores: availableParallelism(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    load1: Number(loadavg()[0]!.toFixed(2)),
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cores} cores (${m.cpu}), node ${m.node}, load ${m.load1} at start`;
}

export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

/** Seconds this bench may take, from the runner (BENCH_BUDGET_SECONDS), or `fallback` when run alone. */
export function budgetSeconds(fallback: number): number {
  return Number(process.env.BENCH_BUDGET_SECONDS ?? fallback);
}

export const log = (message: string) => process.stderr.write(`  ${message}\n`);

/**
 * Starts a bench's report: call `add` as figures come in and `finish` at the
 * end (also from a `finally`, with the error), so figures measured before a
 * failure are still reported.
 */
export function startReport(bench: string) {
  const started = performance.now();
  const m = machine();
  const rows: Row[] = [];
  console.error(`${bench}: ${describeMachine(m)}`);
  let finished = false;
  const report = (error?: unknown): BenchReport => ({
    bench,
    machine: m,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    rows,
    ...(error ? { error: error instanceof Error ? error.message : String(error) } : {}),
  });
  // Written after every row: a bench the runner stops at its budget still has its earlier figures read.
  const save = (r: BenchReport) => {
    if (process.env.BENCH_REPORT) writeFileSync(process.env.BENCH_REPORT, JSON.stringify(r, null, 2));
  };
  return {
    add(...more: Row[]) {
      rows.push(...more);
      save(report('stopped before it finished'));
    },
    finish(error?: unknown) {
      if (finished) return;
      finished = true;
      const r = report(error);
      save(r);
      console.log(formatTable([r]));
      console.log(formatNotes([r]));
      if (r.error) console.log(`${bench} failed: ${r.error}`);
    },
  };
}

const onStop: (() => Promise<unknown>)[] = [];
/**
 * Runs `cleanup` (dropping the bench's databases, stopping its services) if
 * the runner stops this bench at its budget (SIGTERM): a stopped bench never
 * reaches its `finally`.
 */
export function atStop(cleanup: () => Promise<unknown>): void {
  if (onStop.length === 0) {
    process.once('SIGTERM', async () => {
      const deadline = new Promise((r) => setTimeout(r, 4_000));
      for (const c of [...onStop].reverse()) await Promise.race([c().catch(() => {}), deadline]);
      process.exit(143);
    });
  }
  onStop.push(cleanup);
}
