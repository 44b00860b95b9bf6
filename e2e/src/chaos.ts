/**
 * The chaos drills' system: auth and billing as separate processes (`tsx` on
 * each service's server entry, so kill -9 is a real kill), on databases and
 * a Redis prefix of their own, the Stripe emulator in this process (its
 * fault injection at hand), and a TCP proxy between billing and the
 * emulator that a drill cuts to make Stripe unreachable. Webhooks go from the
 * emulator straight to billing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HANDLED_EVENT_TYPES } from '@tollgate/billing/event-types';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import {
  freePort,
  provisionDatabase,
  startTcpProxy,
  startThrowawayRedis,
  type TcpProxy,
  type ThrowawayRedis,
} from '@tollgate/test-kit';
import pg from 'pg';
import Stripe from 'stripe';

const root = path.resolve(import.meta.dirname, '..', '..');
export const SERVICE_SECRET = 'chaos-billing-secret-0123456789abcdef';
export const PREMIUM = 'price_tollgate_premium_monthly';
export const PASSWORD = 'chaos drill passphrase 7';

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
  /** CPU seconds (user + system) the running process has used, from /proc (Linux). */
  cpuSeconds(): Promise<number>;
}

function serviceProcess(
  name: string,
  cwd: string,
  port: number,
  env: Record<string, string>,
): ServiceProcess {
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
      // CHAOS_NODE_ARGS: extra node flags for the services, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
      // (a profile is written on stop(), the graceful way; kill -9 writes none).
      const extra = process.env.CHAOS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      proc = spawn(process.execPath, [...extra, '--import', 'tsx', 'src/server.ts'], {
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
          if (response.ok) {
            console.log(`[chaos] ${name} up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
            return;
          }
        } catch {}
        if (Date.now() - started > 90_000) throw new Error(`${name} did not start:\n${handle.tail()}`);
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
    async cpuSeconds() {
      if (!proc?.pid) return 0;
      // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name; in clock ticks (100/s).
      const stat = await readFile(`/proc/${proc.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
  };
  return handle;
}

export interface ChaosSystem {
  auth: ServiceProcess;
  billing: ServiceProcess;
  emulator: RunningEmulator;
  /** Billing -> Stripe. */
  stripeLink: TcpProxy;
  /** Auth's and billing's Redis, this system's alone. */
  redis: ThrowawayRedis;
  billingDb: pg.Pool;
  authDb: pg.Pool;
  billingDatabaseUrl: string;
  authDatabaseUrl: string;
  /** The emulator through the SDK (not through the proxy). */
  stripe: Stripe;
  close(): Promise<void>;
}

export interface ChaosUser {
  id: string;
  login: string;
  token: string;
  refreshToken: string;
  /** The role auth should show once everything settled. */
  expect: 'premium' | null;
  subscriptionId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * As a client should: a 503 (a store slow on a loaded machine: auth's lockout,
 * billing's revocation check) is retried after its Retry-After, a few times.
 */
async function fetchRetrying503(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, init);
    if (response.status !== 503 || attempt === 5) return response;
    await response.text();
    await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
  }
}

async function json(response: Response) {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/**
 * Users and what each should end with, and the convergence check: every
 * event Stripe delivered with a 2xx applied, every subscription role in auth
 * as expected, each subscription's grant (and revocation) recorded once, both
 * services ready.
 */
export function chaosUsers(sys: ChaosSystem) {
  const users: ChaosUser[] = [];

  async function newUser(): Promise<ChaosUser> {
    const login = `c${randomBytes(5).toString('hex')}`;
    const post = (path: string, body: object) =>
      fetchRetrying503(`${sys.auth.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(json);
    const { id } = await post('/v1/auth/register', {
      login,
      password: PASSWORD,
      email: `${login}@example.com`,
    });
    const { access_token, refresh_token } = await post('/v1/auth/login', { login, password: PASSWORD });
    const user: ChaosUser = { id, login, token: access_token, refreshToken: refresh_token, expect: null };
    users.push(user);
    return user;
  }

  /** A Checkout Session made through billing (needs billing and Stripe). */
  async function checkout(
    user: ChaosUser,
  ): Promise<{ checkout_session_id: string; checkout_session_url: string }> {
    return fetchRetrying503(`${sys.billing.url}/api/v1/checkout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ price_id: PREMIUM }),
    }).then(json);
  }

  /** Pays on the emulator's page (a browser's POST); the user should end up premium. */
  async function pay(
    user: ChaosUser,
    session: { checkout_session_id: string; checkout_session_url: string },
  ) {
    const paid = await fetch(session.checkout_session_url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        email: `${user.login}@example.com`,
        cardNumber: '4242 4242 4242 4242',
        cardExpiry: '12 / 34',
        cardCvc: '123',
        billingName: 'Chaos',
      }),
    });
    if (paid.status !== 303) throw new Error(`payment: ${paid.status} ${await paid.text()}`);
    const done = await sys.stripe.checkout.sessions.retrieve(session.checkout_session_id);
    user.subscriptionId = String(done.subscription);
    user.expect = 'premium';
  }

  async function subscribe(user: ChaosUser): Promise<void> {
    await pay(user, await checkout(user));
  }

  /** Cancelled at Stripe (as from the dashboard): the role must go. */
  async function cancel(user: ChaosUser): Promise<void> {
    await sys.stripe.subscriptions.cancel(user.subscriptionId as string);
    user.expect = null;
  }

  async function subscriptionRoles(userId: string): Promise<string[]> {
    const { rows } = await sys.authDb.query<{ name: string }>(
      `SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
        WHERE ur.user_id = $1 AND ur.source LIKE 'subscription:%' ORDER BY r.name`,
      [userId],
    );
    return rows.map((r) => r.name);
  }

  /** What is still wrong, or [] once the system has converged. */
  async function problems(): Promise<string[]> {
    const found: string[] = [];
    const deliveries = (await fetch(`${sys.emulator.url}/_emulator/deliveries?status=succeeded`, {
      headers: { authorization: `Bearer ${sys.emulator.apiKey}` },
    }).then(json)) as { data: { event_id: string }[] };
    const delivered = [...new Set(deliveries.data.map((d) => d.event_id))];
    const { rows: unapplied } = await sys.billingDb.query<{ id: string }>(
      `SELECT d.id FROM unnest($1::text[]) AS d(id)
         LEFT JOIN webhook_events e ON e.id = d.id
        WHERE e.status IS NULL OR e.status NOT IN ('processed', 'ignored')`,
      [delivered],
    );
    if (unapplied.length > 0) found.push(`${unapplied.length} delivered events not applied`);
    for (const user of users) {
      const roles = await subscriptionRoles(user.id);
      const want = user.expect ? [user.expect] : [];
      if (JSON.stringify(roles) !== JSON.stringify(want))
        found.push(`${user.login}: roles ${JSON.stringify(roles)}, want ${JSON.stringify(want)}`);
      if (!user.subscriptionId) continue;
      const { rows: syncs } = await sys.billingDb.query<{ action: string; status: string }>(
        'SELECT action, status FROM role_syncs WHERE subscription_id = $1 ORDER BY created_at',
        [user.subscriptionId],
      );
      const expected = user.expect ? ['grant'] : ['grant', 'revoke'];
      if (
        JSON.stringify(syncs.map((s) => s.action)) !== JSON.stringify(expected) ||
        syncs.some((s) => s.status !== 'succeeded')
      )
        found.push(
          `${user.login}: role syncs ${JSON.stringify(syncs)}, want ${JSON.stringify(expected)} once each`,
        );
    }
    for (const service of [sys.auth, sys.billing]) {
      const ready = await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
        () => undefined,
      );
      if (ready?.status !== 200) found.push(`${service.name} not ready (${ready?.status ?? 'no answer'})`);
    }
    // Ready is not enough: after a Redis data loss billing stays ready (it takes
    // webhooks) but refuses every token with 503 until auth has rebuilt the
    // revocation cache (fail closed, ADR 0010). Converged means it checks tokens again.
    const probe = users.at(-1);
    if (probe) {
      const checked = await fetch(`${sys.billing.url}/api/v1/subscription`, {
        headers: { authorization: `Bearer ${probe.token}` },
        signal: AbortSignal.timeout(2000),
      }).catch(() => undefined);
      await checked?.body?.cancel();
      if (checked === undefined || checked.status === 503)
        found.push(`billing cannot check tokens (${checked?.status ?? 'no answer'})`);
    }
    return found;
  }

  /** Waits until nothing is wrong; the seconds it took from `since` (a performance.now()). */
  async function converge(what: string, since: number, timeoutMs = 60_000): Promise<number> {
    for (;;) {
      const left = await problems().catch((error: Error) => [error.message]);
      if (left.length === 0) break;
      if (performance.now() - since > timeoutMs)
        throw new Error(
          `${what}: not converged after ${timeoutMs / 1000} s:\n${left.join('\n')}\n--- billing:\n${sys.billing.tail()}`,
        );
      await sleep(250);
    }
    return (performance.now() - since) / 1000;
  }

  return { users, newUser, checkout, pay, subscribe, cancel, subscriptionRoles, problems, converge };
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
      startThrowawayRedis(),
    ]);
    const redisKeyPrefix = `chaos:${randomBytes(4).toString('hex')}:`;
    cleanups.push(
      () => authDbInfo.release(),
      () => billingDbInfo.release(),
      () => redis.stop(),
    );
    const keysDir = await mkdtemp(path.join(tmpdir(), 'tollgate-chaos-keys-'));
    cleanups.push(() => rm(keysDir, { recursive: true, force: true }));
    const [authPort, billingPort] = [await freePort(), await freePort()];

    const emulator = await startEmulator({
      webhookUrl: `http://127.0.0.1:${billingPort}/api/v1/webhook`,
      // Stripe keeps retrying through a billing restart (the catch-up covers what it gives up on).
      webhookRetryBaseMs: 250,
      webhookRetryMaxMs: 3000,
      // As Stripe does: several deliveries at once, in no guaranteed order. One at a
      // time (the emulator's default) made a burst of payments wait on the
      // emulator's own queue, which the bench then measured as billing's latency.
      webhookConcurrency: 8,
      // Subscribed to the events billing acts on, as the README has users set up their endpoint
      // (`npm run -s -w @tollgate/billing webhook-events`): 8 of a payment's 13 events.
      webhookEvents: [...HANDLED_EVENT_TYPES],
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
      REDIS_KEY_PREFIX: redisKeyPrefix,
      KEYS_DIR: keysDir,
      SERVICE_CLIENTS: `billing:${SERVICE_SECRET}:roles:write`,
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
      ACCOUNT_RATE_LIMIT_PER_HOUR: '1000000',
      ADMIN_LOGIN: 'root',
      ADMIN_PASSWORD: 'root-password-for-chaos',
    });
    const billing = serviceProcess('billing', path.join(root, 'services', 'billing'), billingPort, {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: billingDbInfo.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redisKeyPrefix,
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
    const observer = (connectionString: string) =>
      new pg.Pool({ connectionString, application_name: 'chaos-observer', max: 3 });
    const billingDb = observer(billingDbInfo.url);
    const authDb = observer(authDbInfo.url);
    // Closed before the processes die, so a drill's pg_terminate_backend never hits the observers.
    cleanups.push(
      () => billingDb.end(),
      () => authDb.end(),
    );
    // Last in, first out: deliveries in flight need billing up.
    cleanups.push(() =>
      Promise.race([emulator.waitForWebhooks(), new Promise((r) => setTimeout(r, 10_000))]),
    );
    return {
      auth,
      billing,
      emulator,
      stripeLink,
      redis,
      billingDb,
      authDb,
      billingDatabaseUrl: billingDbInfo.url,
      authDatabaseUrl: authDbInfo.url,
      stripe: new Stripe(emulator.apiKey, { ...emulator.stripeConfig, maxNetworkRetries: 0 }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
