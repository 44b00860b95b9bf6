/**
 * The real services, in this process, listening on loopback ports, as the
 * gateway's upstreams: auth (fresh database, migrated, its own keys), the
 * Stripe emulator, and billing (fresh database, migrated, catalogue mirrored
 * from the emulator). By default queue workers are not started and the
 * emulator sends no webhooks: gateway tests only need the HTTP surface. With
 * `webhookUrl`, the emulator delivers its signed events there (the browser
 * tests point it at the gateway, as the Stripe CLI is pointed at nginx) and
 * billing's workers run, so payments turn into roles.
 */
import {
  buildApp as buildAuthApp,
  createPrismaClient as createAuthPrisma,
  createRolesService,
  ensureSuperuser,
  generatePrivateJwk,
  keySetFromJwks,
  loadConfig as loadAuthConfig,
  migrateAuthDatabase,
} from '@tollgate/auth';
import {
  buildApp as buildBillingApp,
  loadConfig as loadBillingConfig,
  migrateBillingDatabase,
  startWorkers,
} from '@tollgate/billing';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import type { FastifyInstance } from 'fastify';

export const SERVICE_CLIENT_ID = 'billing';
export const SERVICE_SECRET = 'e2e-billing-secret-0123456789abcdef';

/** What an upstream received, as the service saw it (after trustProxy). */
export interface SeenRequest {
  method: string;
  url: string;
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface Upstream {
  app: FastifyInstance;
  /** host:port, as the gateway template's *_UPSTREAM expects. */
  address: string;
  url: string;
  seen: SeenRequest[];
}

export interface Services {
  auth: Upstream;
  billing: Upstream;
  emulator: RunningEmulator;
  webhookSecret: string;
  close(): Promise<void>;
}

/** Keeps what the service saw of every request (a test-side hook; the service code is untouched). */
function record(app: FastifyInstance, seen: SeenRequest[]) {
  app.addHook('onRequest', async (request) => {
    seen.push({ method: request.method, url: request.url, ip: request.ip, headers: { ...request.headers } });
  });
}

async function listen(app: FastifyInstance, seen: SeenRequest[]): Promise<Upstream> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, seen };
}

export interface ServicesOptions {
  /** Where browsers reach billing (its PUBLIC_URL): the gateway's base URL. */
  publicUrl: string;
  /** Where the emulator delivers webhooks; when set, billing's queue workers run too. */
  webhookUrl?: string;
  /** Variables over auth's test configuration (e.g. OIDC_PROVIDERS, or SMTP_URL and PUBLIC_URL for account mail). */
  authEnv?: Record<string, string>;
  /** Variables over billing's test configuration (e.g. NODE_ENV=production and its secrets). */
  billingEnv?: Record<string, string>;
  /** The emulator's key and webhook secret (production billing refuses the dev ones). */
  stripeKeys?: { apiKey: string; webhookSecret: string };
  /** Create auth's superuser (ADMIN_LOGIN / ADMIN_PASSWORD below), as the server does at start. */
  superuser?: boolean;
  /** Log both services at warn and above to this stream (default: no logging). */
  logStream?: { write(line: string): unknown };
}

/** The superuser `superuser: true` creates. */
export const SUPERUSER = { login: 'root', password: 'root-password-for-e2e-tests' } as const;

function logging(options: ServicesOptions) {
  return options.logStream ? { logging: true, logStream: options.logStream } : { logging: false };
}

export async function startServices(options: ServicesOptions): Promise<Services> {
  const cleanups: (() => Promise<unknown>)[] = [];
  // Deliveries in flight need billing (and the gateway) up: close waits for them first.
  let settle = async () => {};
  const close = async () => {
    await settle().catch(() => {});
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const [authDb, billingDb, redis] = await Promise.all([
      provisionDatabase('e2e_auth'),
      provisionDatabase('e2e_billing'),
      provisionRedis('e2e'),
    ]);
    cleanups.push(
      () => authDb.release(),
      () => billingDb.release(),
      () => redis.release(),
    );
    await Promise.all([migrateAuthDatabase(authDb.url), migrateBillingDatabase(billingDb.url)]);

    const authConfig = loadAuthConfig({
      NODE_ENV: 'test',
      DATABASE_URL: authDb.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      SERVICE_CLIENTS: `${SERVICE_CLIENT_ID}:${SERVICE_SECRET}:roles:write`,
      ADMIN_LOGIN: SUPERUSER.login,
      ADMIN_PASSWORD: SUPERUSER.password,
      LOG_LEVEL: 'warn',
      ...options.authEnv,
    });
    const seedDb = createAuthPrisma(authConfig.databaseUrl);
    try {
      await createRolesService(seedDb).seedBuiltIns();
      if (options.superuser) await ensureSuperuser(seedDb, authConfig.admin, () => {});
    } finally {
      await seedDb.$disconnect();
    }
    const authApp = await buildAuthApp(authConfig, {
      keys: await keySetFromJwks([await generatePrivateJwk()]),
      ...logging(options),
    });
    const authSeen: SeenRequest[] = [];
    record(authApp, authSeen);
    const auth = await listen(authApp, authSeen);
    cleanups.push(() => authApp.close());

    const emulator = await startEmulator({
      ...(options.webhookUrl
        ? { webhookUrl: options.webhookUrl, webhookRetryBaseMs: 50, webhookRetryMaxMs: 500 }
        : {}),
      ...options.stripeKeys,
    });
    cleanups.push(() => emulator.close());
    if (options.webhookUrl) settle = () => emulator.waitForWebhooks();

    const billingConfig = loadBillingConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: billingDb.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_URL: auth.url,
      AUTH_CLIENT_ID: SERVICE_CLIENT_ID,
      AUTH_CLIENT_SECRET: SERVICE_SECRET,
      STRIPE_SECRET_KEY: emulator.apiKey,
      STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
      STRIPE_API_URL: emulator.url,
      PUBLIC_URL: options.publicUrl,
      WORKER_POLL_SECONDS: '0.5',
      ROLE_SYNC_RETRY_DELAY_SECONDS: '1',
      ROLE_SYNC_RETRY_DELAY_MAX_SECONDS: '2',
      WEBHOOK_RETRY_DELAY_SECONDS: '1',
      ...options.billingEnv,
    });
    const billingApp = await buildBillingApp(billingConfig, logging(options));
    cleanups.push(() => billingApp.close());
    await billingApp.billing.catalog.syncAll();
    if (options.webhookUrl) {
      const workers = await startWorkers(billingApp.billing, billingApp.log);
      cleanups.push(() => workers.stop());
    }
    const billingSeen: SeenRequest[] = [];
    record(billingApp, billingSeen);
    const billing = await listen(billingApp, billingSeen);

    return { auth, billing, emulator, webhookSecret: emulator.webhookSecret, close };
  } catch (error) {
    await close();
    throw error;
  }
}
