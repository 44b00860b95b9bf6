/**
 * npm run bench [-- --compare bench/results/<file>.json] [-- --only auth,memory] [-- --full]
 *
 * Runs every bench, one after another, each in its own process with a time
 * budget (the whole run fits in 10 minutes), and prints one table: measure |
 * figure | baseline in the same run | ratio | goal | met?. The run is written
 * to bench/results/<time>.json; --compare prints how each row moved against
 * an earlier run (ratios when the row has a baseline: the machine is shared,
 * so figures alone drift with its load). --full runs the memory bench's
 * mixed load for the 3 minutes (the run then takes about 19 minutes).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, machine } from './lib/bench.js';
import {
  type BenchReport,
  formatNotes,
  formatTable,
  parseRunReport,
  type RunReport,
  summary,
} from './lib/report.js';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    compare: { type: 'string' },
    only: { type: 'string' },
    full: { type: 'boolean', default: false },
  },
});

interface BenchSpec {
  name: string;
  file: string;
  /** Seconds before the runner stops it; the figures it reported by then are kept. */
  budget: number;
  env?: Record<string, string>;
}

const cores = machine().cores;
const MEMORY_LOAD_SECONDS = values.full ? 180 : 15;
// Budgets sum to 560 s: the run stays under 10 minutes (without --full) with
// time to start each bench. A bench that overruns is stopped; the figures it
// reported by then are kept and the rest show as not measured. The benches
// run shorter here than alone (each line says how), measured at load
// averages of 15-30 on 2 cores.
const BENCHES: BenchSpec[] = [
  // A warm-up, then three rounds of 4 s each for raw argon2, login, hello, /me, rotation and grants.
  {
    name: 'auth',
    file: 'bench/auth/index.ts',
    budget: 120,
    env: { UV_THREADPOOL_SIZE: String(cores), BENCH_SECONDS: '4' },
  },
  // 10 checkouts, and sync-stripe over 200 customers instead of 10,000 (creating them is most of its time).
  {
    name: 'billing',
    file: 'bench/billing/index.ts',
    budget: 80,
    env: { BENCH_SECONDS: '4', BENCH_CHECKOUTS: '10', BENCH_CUSTOMERS: '200' },
  },
  // A 2,000-event backlog and a 15 s auth outage (the backoff cap is reached either way).
  {
    name: 'billing-queue',
    file: 'bench/billing/queue.ts',
    budget: 90,
    env: { BENCH_BACKLOG: '2000', BENCH_DRAIN_LIMIT_SECONDS: '30', BENCH_AUTH_OUTAGE_SECONDS: '15' },
  },
  { name: 'emulator', file: 'bench/emulator/index.ts', budget: 50, env: { BENCH_DURATION_SECONDS: '4' } },
  // 15 s of mixed load per service instead of the 3 minutes (--full runs those: about 9 minutes more).
  {
    name: 'memory',
    file: 'bench/services/memory.ts',
    budget: values.full ? 660 : 110,
    env: { BENCH_MEMORY_LOAD_SECONDS: String(MEMORY_LOAD_SECONDS) },
  },
  // npm start twice, then one timed cold start per service (after the one that migrates).
  { name: 'start-up', file: 'bench/services/startup.ts', budget: 110, env: { BENCH_STARTS: '1' } },
];

function runBench(spec: BenchSpec, reportFile: string): Promise<BenchReport> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', spec.file], {
      cwd: root,
      env: {
        ...process.env,
        ...spec.env,
        BENCH_REPORT: reportFile,
        BENCH_BUDGET_SECONDS: String(spec.budget),
      },
      // Its own process group, so that stopping it stops the services it started.
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    let timedOut = false;
    // The group may be gone already (the bench exited at the last moment).
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {}
    };
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      kill = setTimeout(() => signalGroup('SIGKILL'), 5_000);
    }, spec.budget * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // What it started (services, PostgreSQL for npm start) goes with it.
      if (kill) {
        clearTimeout(kill);
        signalGroup('SIGKILL');
      }
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      let report: BenchReport | undefined;
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as BenchReport;
      } catch {}
      const failure = timedOut
        ? `stopped at its ${spec.budget} s budget`
        : code !== 0
          ? `exited with ${code ?? signal}`
          : undefined;
      resolve({
        bench: spec.name,
        machine: report?.machine ?? machine(),
        seconds,
        rows: report?.rows ?? [],
        ...(failure || report?.error ? { error: [failure, report?.error].filter(Boolean).join('; ') } : {}),
      });
    });
  });
}

const previous = values.compare
  ? parseRunReport(JSON.parse(readFileSync(path.resolve(values.compare), 'utf8')))
  : undefined;
const only = values.only?.split(',').map((s) => s.trim());
const selected = only ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES;
if (only && selected.length !== only.length)
  throw new Error(`--only takes some of: ${BENCHES.map((b) => b.name).join(', ')}`);

const run: RunReport = { startedAt: new Date().toISOString(), machine: machine(), seconds: 0, benches: [] };
console.error(`bench run on ${describeMachine(run.machine)}`);
const started = performance.now();
const scratch = path.join(tmpdir(), `tollgate-bench-${process.pid}`);
mkdirSync(scratch, { recursive: true });
try {
  for (const spec of selected) {
    console.error(`\n== ${spec.name} (budget ${spec.budget} s)`);
    run.benches.push(await runBench(spec, path.join(scratch, `${spec.name}.json`)));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
run.seconds = Number(((performance.now() - started) / 1000).toFixed(1));

const resultsDir = path.join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `${run.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);

console.log(`\nbench run ${run.startedAt}, ${run.seconds} s, on ${describeMachine(run.machine)}`);
console.log(
  'The machine may be shared: figures drift with its load; ratios against a baseline measured in the same run carry over.\n',
);
console.log(formatTable(run.benches, previous));
console.log(`\n${summary(run.benches)}\n\nnotes:\n${formatNotes(run.benches)}`);
for (const bench of run.benches) {
  if (bench.error) console.log(`${bench.bench}: ${bench.error}`);
}
console.log(`written to ${path.relative(root, file)}`);
