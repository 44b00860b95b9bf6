/**
 * The chaos drills' system: auth and billing as separate processes (`tsx` on
 * each service's server entry, so kill -9 is a real kill), on databases and
 * a Redis prefix of their own, the Stripe emulator in this process (its
 * fault injection at hand), and a TCP proxy between billing and the
 * emulator that a drill cuts to make Stripe unreachable. Webhooks go from the
 * emulator straight to billing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { freePort, provisionDatabase, provisionRedis, startTcpProxy, type TcpProxy } from '@tollgate/test-kit';
import pg from 'pg';

const root = path.resolve(import.meta.dirname, '..', '..');
export const SERVICE_SECRET = 'chaos-billing-secret-0123456789abcdef';

export interface ServiceProcess {
  name: string;
  url: string;
  /** Starts the process and waits until /health/live answers. */
  start(): Promise<void>;
  /** kill -9: no shutdown hooks, jobs and connections cut mid-flight. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful way. */
  stop(): Promise<void>;
  /** The last lines it printed (for a failing drill's message). */
  tail(): string;
}

function serviceProcess(name: string, cwd: string, port: number, env: Record<string, string>): ServiceProcess {
  let proc: ChildProcess | undefined;
  let output: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  const exited = (p: ChildProcess) =>
    p.exitCode !== null || p.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => p.once('exit', () => resolve()));
  const handle: ServiceProcess = {
    name,
    url,
    async start() {
      proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => {
        output.push(...chunk.toString().split('\n').filter(Boolean));
        if (output.length > 200) output = output.slice(-200);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      const started = Date.now();
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`${name} exited at start:\n${handle.tail()}`);
        try {
          const response = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1000) });
          if (response.ok) return;
        } catch {}
        if (Date.now() - started > 60_000) throw new Error(`${name} did not start:\n${handle.tail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill() {
      if (!proc) return;
      proc.kill('SIGKILL');
      await exited(proc);
    },
    async stop() {
      if (!proc) return;
      proc.kill('SIGTERM');
      await exited(proc);
    },
    tail: () => output.slice(-40).join('\n'),
  };
  return handle;
}

export interface ChaosSystem {
  auth: ServiceProcess;
  billing: ServiceProcess;
  emulator: RunningEmulator;
  /** Billing -> Stripe. */
  stripeLink: TcpProxy;
  billingDb: pg.Client;
  authDb: pg.Client;
  billingDatabaseUrl: string;
  authDatabaseUrl: string;
  close(): Promise<void>;
}

export async function startChaosSystem(): Promise<ChaosSystem> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const [authDbInfo, billingDbInfo, redis] = await Promise.all([
      provisionDatabase('chaos_auth'),
      provisionDatabase('chaos_billing'),
      provisionRedis('chaos'),
    ]);
    cleanups.push(
      () => authDbInfo.release(),
      () => billingDbInfo.release(),
      () => redis.release(),
    );
    const keysDir = await mkdtemp(path.join(tmpdir(), 'tollgate-chaos-keys-'));
    cleanups.push(() => rm(keysDir, { recursive: true, force: true }));
    const [authPort, billingPort] = [await freePort(), await freePort()];

    const emulator = await startEmulator({
      webhookUrl: `http://127.0.0.1:${billingPort}/api/v1/webhook`,
      // Stripe keeps retrying through a billing restart (the catch-up covers what it gives up on).
      webhookRetryBaseMs: 250,
      webhookRetryMaxMs: 3000,
    });
    cleanups.push(() => emulator.close());
    const emuUrl = new URL(emulator.url);
    const stripeLink = await startTcpProxy({ host: emuUrl.hostname, port: Number(emuUrl.port) });
    cleanups.push(() => stripeLink.close());

    const auth = serviceProcess('auth', path.join(root, 'services', 'auth'), authPort, {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: authDbInfo.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      KEYS_DIR: keysDir,
      SERVICE_CLIENTS: `billing:${SERVICE_SECRET}:roles:write`,
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
      ADMIN_LOGIN: 'root',
      ADMIN_PASSWORD: 'root-password-for-chaos',
    });
    const billing = serviceProcess('billing', path.join(root, 'services', 'billing'), billingPort, {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: billingDbInfo.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_URL: auth.url,
      AUTH_CLIENT_SECRET: SERVICE_SECRET,
      AUTH_TIMEOUT_MS: '2000',
      STRIPE_SECRET_KEY: emulator.apiKey,
      STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
      STRIPE_API_URL: stripeLink.url,
      PUBLIC_URL: `http://127.0.0.1:${billingPort}`,
      WORKER_POLL_SECONDS: '0.5',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_DELAY_SECONDS: '1',
      ROLE_SYNC_RETRY_DELAY_SECONDS: '1',
      ROLE_SYNC_RETRY_DELAY_MAX_SECONDS: '60',
      DEPENDENCY_PROBE_SECONDS: '1',
      STRIPE_CATCHUP_SECONDS: '5',
    });
    cleanups.push(
      () => auth.kill(),
      () => billing.kill(),
    );
    await auth.start();
    await billing.start();

    // Named, so the drill that terminates backends spares the observers.
    const billingDb = new pg.Client({ connectionString: billingDbInfo.url, application_name: 'chaos-observer' });
    const authDb = new pg.Client({ connectionString: authDbInfo.url, application_name: 'chaos-observer' });
    await Promise.all([billingDb.connect(), authDb.connect()]);
    // Closed before the processes die, so a drill's pg_terminate_backend never hits the observers.
    cleanups.push(
      () => billingDb.end(),
      () => authDb.end(),
    );
    // Last in, first out: deliveries in flight need billing up.
    cleanups.push(() => Promise.race([emulator.waitForWebhooks(), new Promise((r) => setTimeout(r, 10_000))]));
    return {
      auth,
      billing,
      emulator,
      stripeLink,
      billingDb,
      authDb,
      billingDatabaseUrl: billingDbInfo.url,
      authDatabaseUrl: authDbInfo.url,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
