/**
 * Start-up (issue 13, item 6):
 *  1. each service, with its database already migrated, from spawn to the
 *     first 200 of /health/ready (goal <= 1.5 s each), in production mode;
 *  2. `npm start`: the first run on an empty DATA_DIR (initdb of the embedded
 *     PostgreSQL included; goal <= 10 s) and a warm run on the same DATA_DIR
 *     (goal <= 3 s), from spawn to its "tollgate is running" banner; and its
 *     idle RSS (goal <= 250 MB, embedded PostgreSQL aside) on two rows: its
 *     node process alone, and the whole process tree with npm's own process.
 * Needs TEST_DATABASE_URL and TEST_REDIS_URL (for the services alone).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@tollgate/test-kit';
import { atStop, log, median, startReport } from '../lib/bench.js';
import { processTree, RUN_LABEL, rssMB, type ServiceName } from '../lib/services.js';
import { benchSystem } from './system.js';

const TIMED_STARTS = Number(process.env.BENCH_STARTS ?? 2);
const root = path.resolve(import.meta.dirname, '..', '..');
const report = startReport('start-up');

async function coldStarts() {
  const sys = await benchSystem();
  atStop(() => sys.close());
  try {
    // Billing needs the other two up; each is measured while nothing else starts.
    const order: ServiceName[] = ['stripe-emulator', 'auth', 'billing'];
    for (const name of order) {
      // The first start migrates and seeds its database: not timed.
      await (await sys.start(name)).stop();
      const times: number[] = [];
      for (let i = 0; i < TIMED_STARTS; i++) {
        const service = await sys.start(name);
        times.push(service.readySeconds);
        await service.stop();
      }
      report.add({
        measure: `${name} cold start to ready${RUN_LABEL}`,
        figure: median(times),
        unit: 's',
        goal: { on: 'figure', op: '<=', value: 1.5, text: '<= 1.5 s' },
        note: `existing database; starts ${times.map((t) => t.toFixed(2)).join(', ')} s`,
      });
      // Left running for the next one.
      if (name !== 'billing') await sys.start(name);
    }
  } finally {
    await sys.close();
  }
}

interface NpmStart {
  child: ChildProcess;
  seconds: number;
  stop(): Promise<void>;
}

/** The npm start running now: its own process group, which a stop of this bench must stop too. */
let runningGroup: number | undefined;
atStop(async () => {
  if (!runningGroup) return;
  try {
    process.kill(-runningGroup, 'SIGKILL');
  } catch {}
});

/** `npm start` in its own process group, until its banner. */
async function npmStart(env: Record<string, string>): Promise<NpmStart> {
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningGroup = child.pid;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (;;) {
    if (output.includes('tollgate is running')) break;
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output.slice(-2000)}`);
    if (performance.now() - started > 60_000) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`npm start not running within 60 s:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    child,
    seconds,
    async stop() {
      // Ctrl+C: the whole group, as a terminal sends it.
      process.kill(-child.pid!, 'SIGINT');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      runningGroup = undefined;
    },
  };
}

async function npmStarts() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'tollgate-bench-start-'));
  // The embedded PostgreSQL runs as its own user when npm start runs as root: it must enter the directory.
  await chmod(dataDir, 0o755);
  try {
    const env = {
      DATA_DIR: dataDir,
      GATEWAY_PORT: String(await freePort()),
      AUTH_PORT: String(await freePort()),
      BILLING_PORT: String(await freePort()),
      EMULATOR_PORT: String(await freePort()),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
    };
    log('npm start, first run (initdb)');
    const first = await npmStart(env);
    await first.stop();
    report.add({
      measure: `npm start, first run (initdb included), to running${RUN_LABEL}`,
      figure: first.seconds,
      unit: 's',
      goal: { on: 'figure', op: '<=', value: 10, text: '<= 10 s' },
    });
    log('npm start, warm');
    const warm = await npmStart(env);
    report.add({
      measure: `npm start, warm, to running${RUN_LABEL}`,
      figure: warm.seconds,
      unit: 's',
      goal: { on: 'figure', op: '<=', value: 3, text: '<= 3 s' },
    });
    await new Promise((r) => setTimeout(r, 2_000));
    // The stack's own node process (dev/dist/start.js), and what wraps it: npm's
    // own process stays as its parent, because `npm run` waits for its script's
    // exit (no script can hand over to it). `sh dev/start.sh` and
    // `node dev/dist/start.js` run the same node process with nothing around it.
    let stack = 0;
    const wrappers: string[] = [];
    let wrapped = 0;
    for (const pid of await processTree(warm.child.pid!)) {
      const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
      if (comm === 'postgres' || comm === '') continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      const rss = await rssMB(pid);
      if (cmdline.includes('dev/dist/start.js')) stack += rss;
      else {
        wrapped += rss;
        wrappers.push(`${comm} ${rss.toFixed(0)} MB`);
      }
    }
    report.add({
      measure: `npm start idle RSS: its node process, embedded PostgreSQL aside${RUN_LABEL}`,
      figure: stack,
      unit: 'MB',
      goal: { on: 'figure', op: '<=', value: 250, text: '<= 250 MB' },
      note: 'the whole stack (auth, billing, emulator, gateway, dev UI) in one process; also all that `sh dev/start.sh` or `node dev/dist/start.js` leave running',
    });
    report.add({
      measure: `npm start idle RSS: the whole process tree, npm included, embedded PostgreSQL aside${RUN_LABEL}`,
      figure: stack + wrapped,
      unit: 'MB',
      goal: { on: 'figure', op: '<=', value: 250, text: '<= 250 MB' },
      note: `resident around the node process: ${wrappers.join(', ') || 'nothing'}`,
    });
    report.add({
      measure: `npm start: wrapper processes left resident${RUN_LABEL}`,
      figure: wrappers.length,
      unit: '',
      goal: { on: 'figure', op: '<=', value: 0, text: 'none (no npm/tsx wrapper)' },
      note: "npm waits for its script's exit, so its own process stays the parent of `npm start`; `sh dev/start.sh` (or `node dev/dist/start.js` after `npm run build`) runs the same stack with none",
    });
    await warm.stop();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

try {
  // npm start first: its figures cannot be had any other way, and a busy
  // machine's slow service starts would otherwise leave it out of the budget.
  await npmStarts();
  await coldStarts();
  report.finish();
} catch (error) {
  report.finish(error);
  process.exitCode = 1;
}
