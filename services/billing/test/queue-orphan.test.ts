/**
 * Issue 9, item 5: a job whose worker process is killed with -9 mid-job is
 * retried within seconds, not after the queue's expiry: the dead worker's
 * liveness lock is free at once, and another process's reaper fails the job
 * into its retry (ADR 0015); pg-boss's heartbeat (10 s+) is only the backstop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../src/jobs/workers.js';
import { startLiveness } from '../src/queue/liveness.js';
import {
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  rolesInAuth,
  SERVICE_SECRET,
  type Stack,
  startStack,
  subscribe,
} from './stack.js';

let stack: Stack;
let blackhole: net.Server;
let child: ChildProcess | undefined;
let workers: Workers | undefined;
const held = new Set<net.Socket>();

beforeAll(async () => {
  stack = await startStack({}, { workers: false });
  // An "auth" that accepts connections and never answers: the worker's role-sync job hangs in it.
  blackhole = net.createServer((socket) => {
    held.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await workers?.stop();
  await stack?.close();
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => blackhole?.close(resolve));
});

function startWorkerProcess(): ChildProcess {
  const { port } = blackhole.address() as net.AddressInfo;
  const c = stack.config;
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: path.join(import.meta.dirname, '..'),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: c.databaseUrl,
      AUTH_URL: `http://127.0.0.1:${port}`,
      AUTH_CLIENT_SECRET: SERVICE_SECRET,
      AUTH_TIMEOUT_MS: '120000',
      STRIPE_SECRET_KEY: c.stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: c.stripe.webhookSecret,
      STRIPE_API_URL: stack.emu.url,
      WORKER_POLL_SECONDS: '0.5',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return proc;
}

describe('a worker killed with -9 mid-job', () => {
  it('has its job retried by another worker within seconds', async () => {
    child = startWorkerProcess();
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    // The child processes the webhooks and takes the role-sync job, which hangs at "auth".
    const jobState = async () => {
      const rows = await stack.app.billing.db.$queryRaw<{ state: string }[]>`
        SELECT j.state::text AS state FROM pgboss.job j JOIN role_syncs r ON r.job_id = j.id::text
         WHERE r.user_id = ${user.id}::uuid`;
      return rows[0]?.state;
    };
    // Active, and recorded as in hand by the child (it writes that before running the job;
    // a kill in between is left to pg-boss's heartbeat, the slower backstop).
    const inHand = async () => {
      const rows = await stack.app.billing.db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM queue_workers w, jsonb_array_elements(w.jobs) j, role_syncs r
         WHERE r.user_id = ${user.id}::uuid AND j->>'id' = r.job_id`;
      return (rows[0]?.n ?? 0) > 0;
    };
    await eventually(async () => (await jobState()) === 'active' && (await inHand()), 60_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    const killedAt = performance.now();

    // Another process's reaper: the dead worker's lock is free, its job goes back to the queue.
    const { db, boss } = stack.app.billing;
    const reaper = await startLiveness({ db, boss, databaseUrl: stack.config.databaseUrl }, () => {});
    try {
      // The role sync, and the webhook jobs of its batch that were still in hand.
      await eventually(async () => (await reaper.reap()) >= 1, 30_000);
    } finally {
      await reaper.stop();
    }
    const [failed] = await db.$queryRaw<{ state: string; message: string }[]>`
      SELECT j.state::text AS state, j.output->>'message' AS message
        FROM pgboss.job j JOIN role_syncs r ON r.job_id = j.id::text WHERE r.user_id = ${user.id}::uuid`;
    // Failed by the reaper (pg-boss's own heartbeat check says "job heartbeat timeout"), into a retry.
    expect(failed?.state).toBe('retry');
    expect(failed?.message).toMatch(/^worker [0-9a-f-]+ died/);
    const { n: leftBehind } = (
      await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM queue_workers`
    )[0] as { n: number };
    expect(leftBehind).toBe(0);

    // A healthy worker (this process, real auth) takes over.
    workers = await startWorkers(stack.app.billing, stack.app.log);
    await eventually(async () => (await rolesInAuth(stack, user)).includes('premium'), 90_000);
    const seconds = (performance.now() - killedAt) / 1000;
    console.log(`orphaned role-sync job retried and applied ${seconds.toFixed(1)} s after kill -9`);
    // A reaper pass + the first retry delay + a poll; pg-boss's heartbeat alone took 11.7-13.4 s.
    expect(seconds).toBeLessThan(20);
  });
});
