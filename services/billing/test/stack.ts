/**
 * One test file's whole world: the real auth app (listening, own keys), the
 * Stripe emulator in-process, and billing (listening, so the emulator can
 * deliver webhooks to it) on a fresh database of its own, with its workers.
 */
import { randomBytes } from 'node:crypto';
import {
  buildApp as buildAuthApp,
  createPrismaClient as createAuthPrisma,
  createRolesService,
  generatePrivateJwk,
  keySetFromJwks,
  loadConfig as loadAuthConfig,
} from '@tollgate/auth';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { freePort, provisionDatabase } from '@tollgate/test-kit';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { inject } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import { migrateBillingDatabase } from '../src/db/migrate.js';
import type { Clock } from '../src/domain/clock.js';
import { startWorkers, type Workers } from '../src/jobs/workers.js';
import { type StripeProxy, startStripeProxy } from './support/stripe-proxy.js';

export const SERVICE_SECRET = 'billing-test-secret-0123456789abcd';
export const CARD_OK = '4242 4242 4242 4242';
export const CARD_DECLINED = '4000 0000 0000 0002';
export const DAY = 86_400;

export { freePort };

/** A clock tests can move forward (for grace periods); real time otherwise. */
export class TestClock implements Clock {
  offsetMs = 0;
  now() {
    return new Date(Date.now() + this.offsetMs);
  }
  advanceDays(days: number) {
    this.offsetMs += days * 86_400_000;
  }
}

export interface AuthHandle {
  app: FastifyInstance;
  /** The account mail auth sent (verification, email change), newest last. */
  mails: { to: string; subject: string; text: string }[];
  url: string;
  port: number;
  /** Stops auth (an outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

export async function startAuth(
  port = 0,
  databaseUrl = inject('authDatabaseUrl'),
  redis = { url: inject('redisUrl'), keyPrefix: inject('redisKeyPrefix') },
): Promise<AuthHandle> {
  const config = loadAuthConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    ACCOUNT_RATE_LIMIT_PER_HOUR: '100000',
    SERVICE_CLIENTS: `billing:${SERVICE_SECRET}:roles:write`,
    ADMIN_LOGIN: 'root',
    ADMIN_PASSWORD: 'root-password-for-tests',
  });
  const keys = await keySetFromJwks([await generatePrivateJwk()]);
  const db = createAuthPrisma(config.databaseUrl);
  try {
    await createRolesService(db).seedBuiltIns();
  } finally {
    await db.$disconnect();
  }
  const handle = { mails: [] } as unknown as AuthHandle;
  // Auth's mail port, kept in memory: billing's tests only need the links (auth's own tests use real SMTP).
  const mailer = {
    async send(to: string, content: { subject: string; text: string }) {
      handle.mails.push({ to, subject: content.subject, text: content.text });
    },
    close() {},
  };
  const boot = async (onPort: number) => {
    const app = await buildAuthApp(config, { keys, mailer, logging: false });
    await app.listen({ host: '127.0.0.1', port: onPort });
    const address = app.server.address();
    handle.port = typeof address === 'object' && address ? address.port : onPort;
    handle.url = `http://127.0.0.1:${handle.port}`;
    handle.app = app;
  };
  await boot(port);
  handle.stop = () => handle.app.close();
  handle.start = () => boot(handle.port);
  return handle;
}

export interface Stack {
  app: FastifyInstance;
  config: Config;
  auth: AuthHandle;
  emu: RunningEmulator;
  stripe: Stripe;
  clock: TestClock;
  billingUrl: string;
  /** Between billing and the emulator, when started with `{ stripeProxy: true }`. */
  proxy?: StripeProxy;
  close(): Promise<void>;
}

export interface StackOptions {
  /** false: billing's queue workers are not started (call `startWorkers` on `app.billing` later). */
  workers?: boolean;
  /** Where billing reaches Stripe, given the emulator's URL (e.g. through a proxy a test can cut). */
  stripeVia?: (emulatorUrl: string) => Promise<string>;
  /** A proxy between billing and the emulator that holds or fails chosen answers (`stack.proxy`). */
  stripeProxy?: boolean;
}

export async function startStack(
  env: Record<string, string> = {},
  options: StackOptions = {},
): Promise<Stack> {
  const database = await provisionDatabase('billing');
  await migrateBillingDatabase(database.url);
  // Auth and billing share one Redis (revocations), whichever the test chose.
  const auth = await startAuth(0, undefined, {
    url: env.REDIS_URL ?? inject('redisUrl'),
    keyPrefix: env.REDIS_KEY_PREFIX ?? inject('redisKeyPrefix'),
  });
  const billingPort = await freePort();
  const billingUrl = `http://127.0.0.1:${billingPort}`;
  const emu = await startEmulator({
    webhookUrl: `${billingUrl}/api/v1/webhook`,
    webhookRetryBaseMs: 50,
    webhookRetryMaxMs: 500,
  });
  const proxy = options.stripeProxy ? await startStripeProxy(emu.url) : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: inject('redisKeyPrefix'),
    AUTH_URL: auth.url,
    AUTH_CLIENT_SECRET: SERVICE_SECRET,
    AUTH_TIMEOUT_MS: '2000',
    STRIPE_SECRET_KEY: emu.apiKey,
    STRIPE_WEBHOOK_SECRET: emu.webhookSecret,
    STRIPE_API_URL: proxy?.url ?? (options.stripeVia ? await options.stripeVia(emu.url) : emu.url),
    PUBLIC_URL: billingUrl,
    WORKER_POLL_SECONDS: '0.5',
    ROLE_SYNC_RETRY_DELAY_SECONDS: '1',
    ROLE_SYNC_RETRY_DELAY_MAX_SECONDS: '2',
    WEBHOOK_RETRY_DELAY_SECONDS: '1',
    ...env,
  });
  const clock = new TestClock();
  const app = await buildApp(config, { clock, logging: false });
  await app.billing.catalog.syncAll();
  const workers: Workers | undefined =
    options.workers === false ? undefined : await startWorkers(app.billing, app.log);
  await app.listen({ host: '127.0.0.1', port: billingPort });
  const stripe = new Stripe(emu.apiKey, { ...emu.stripeConfig, maxNetworkRetries: 0 });
  return {
    app,
    config,
    auth,
    emu,
    stripe,
    clock,
    billingUrl,
    proxy,
    async close() {
      // The emulator's close waits for deliveries in flight, which need billing up.
      await emu.waitForWebhooks();
      await emu.close();
      await workers?.stop();
      await app.close();
      await proxy?.close();
      await auth.app.close().catch(() => {});
      await database.release();
    },
  };
}

export interface TestUser {
  id: string;
  login: string;
  email: string;
  token: string;
}

export const PASSWORD = 'plausible tangerine 42';

/** Registers a user at auth and logs them in. */
export async function newUser(stack: Stack): Promise<TestUser> {
  const login = `u${randomBytes(6).toString('hex')}`;
  const registered = await stack.auth.app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: { login, password: PASSWORD, email: `${login}@example.com` },
  });
  if (registered.statusCode !== 201) throw new Error(`register: ${registered.body}`);
  const logged = await stack.auth.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { login, password: PASSWORD },
  });
  if (logged.statusCode !== 200) throw new Error(`login: ${logged.body}`);
  const { id, email } = registered.json() as { id: string; email: string };
  return { id, login, email, token: (logged.json() as { access_token: string }).access_token };
}

export const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });

/** The user's roles as auth reports them (asked by the user themself). */
export async function rolesInAuth(stack: Stack, user: TestUser): Promise<string[]> {
  const response = await stack.auth.app.inject({
    method: 'GET',
    url: `/v1/role/user?login=${user.login}`,
    headers: bearer(user),
  });
  if (response.statusCode !== 200) throw new Error(`roles: ${response.body}`);
  return ((response.json() as { roles: string[] }).roles ?? []).slice().sort();
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns something truthy (or throws the last failure after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 10_000) {
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - start > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`,
      );
    await sleep(50);
  }
}

/** Submits the hosted checkout page's form as a browser would. */
export async function payOnHostedPage(url: string, cardNumber = CARD_OK): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      email: 'buyer@example.com',
      cardNumber,
      cardExpiry: '12 / 34',
      cardCvc: '123',
      billingName: 'Test Buyer',
    }),
  });
}

/** Checkout + payment on the emulator's page; returns the session id. */
export async function subscribe(stack: Stack, user: TestUser, priceId: string): Promise<string> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/api/v1/checkout',
    headers: bearer(user),
    payload: { price_id: priceId },
  });
  if (response.statusCode !== 200) throw new Error(`checkout: ${response.body}`);
  const { checkout_session_id, checkout_session_url } = response.json() as {
    checkout_session_id: string;
    checkout_session_url: string;
  };
  const paid = await payOnHostedPage(checkout_session_url);
  const text = await paid.text();
  if (paid.status !== 303) throw new Error(`payment: ${paid.status} ${text}`);
  return checkout_session_id;
}

export const PREMIUM_MONTHLY = 'price_tollgate_premium_monthly';
export const BASIC_MONTHLY = 'price_tollgate_basic_monthly';
