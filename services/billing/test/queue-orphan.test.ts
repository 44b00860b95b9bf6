/**
 * Issue 9, item 5: a job whose worker process is killed with -9 mid-job is
 * retried within seconds (heartbeats), not after the queue's expiry.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../src/jobs/workers.js';
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
    await eventually(async () => (await jobState()) === 'active', 60_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));
    const killedAt = performance.now();

    // A healthy worker (this process, real auth) takes over.
    workers = await startWorkers(stack.app.billing, stack.app.log);
    await eventually(async () => (await rolesInAuth(stack, user)).includes('premium'), 90_000);
    const seconds = (performance.now() - killedAt) / 1000;
    console.log(`orphaned role-sync job retried and applied ${seconds.toFixed(1)} s after kill -9`);
    // Heartbeat 10 s + a 2 s supervision pass + the first retry delay; the old expiry was 60 s.
    expect(seconds).toBeLessThan(20);
  });
});
