/**
 * The billing service's whole configuration: one typed schema over the
 * environment. Nothing else in the service reads process.env.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError, loadEnv, parseTrustProxy } from '@tollgate/service-kit';
import { type DunningPolicy, parseFeatureList } from './domain/dunning/dunning.js';

export const DEV_STRIPE_SECRET_KEY = 'sk_test_tollgate';
export const DEV_STRIPE_WEBHOOK_SECRET = 'whsec_tollgate_dev';
export const DEV_AUTH_CLIENT_SECRET = 'billing-dev-secret';
export const DEV_ADMIN_PASSWORD = 'admin';
/** Passwords tollgate's own docs, defaults and examples have shown for the admin login: never in production. */
const KNOWN_ADMIN_PASSWORDS = new Set([DEV_ADMIN_PASSWORD, 'password', 'changeme', 'change-me', 'tollgate']);
export const DEV_ADMIN_COOKIE_SECRET = 'tollgate-dev-admin-cookie-secret-0000';
const DEV_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tollgate_billing';

const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 3002, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.String({ default: 'info' }),
  /**
   * On SIGTERM: seconds /health/ready answers 503 while requests are still
   * served (with Connection: close) before the server closes, so the load
   * balancer stops sending first (Kubernetes: longer than endpoint removal).
   */
  SHUTDOWN_DRAIN_SECONDS: Type.Number({ default: 0, minimum: 0, maximum: 120 }),
  TRUST_PROXY: Type.String({ default: 'loopback' }),
  /** When set, GET /metrics answers only to `Authorization: Bearer <this>` (the gateway never routes it). */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  DATABASE_URL: Type.String({ default: DEV_DATABASE_URL }),
  /**
   * Connection budget per replica (README, "Connection budget"): the Prisma pool,
   * pg-boss's pool, plus one LISTEN connection pg-boss holds outside its pool and
   * (with workers) the liveness connection holding the workers' advisory lock.
   */
  DATABASE_POOL_MAX: Type.Integer({ default: 12, minimum: 2 }),
  QUEUE_POOL_MAX: Type.Integer({ default: 4, minimum: 2 }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** Longest a Redis command may wait before the token check answers 503 instead (ms). */
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ default: 250, minimum: 10 }),
  /** Must be the prefix auth uses: session revocations are read under it. */
  REDIS_KEY_PREFIX: Type.String({ default: 'tollgate:' }),
  REVOCATION_CACHE_MS: Type.Integer({ default: 500, minimum: 0, maximum: 1000 }),

  /** Base URL of the auth service (JWKS, token endpoint, internal role API). */
  AUTH_URL: Type.String({ default: 'http://127.0.0.1:3001' }),
  JWT_ISSUER: Type.String({ default: 'tollgate-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'tollgate' }),
  /** Client-credentials of billing at auth (scope roles:write). */
  AUTH_CLIENT_ID: Type.String({ default: 'billing' }),
  AUTH_CLIENT_SECRET: Type.String({ default: DEV_AUTH_CLIENT_SECRET }),
  /** Per call to auth. */
  AUTH_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100 }),

  STRIPE_SECRET_KEY: Type.String({ default: DEV_STRIPE_SECRET_KEY }),
  STRIPE_WEBHOOK_SECRET: Type.String({ default: DEV_STRIPE_WEBHOOK_SECRET }),
  /** Unset = api.stripe.com; e.g. http://127.0.0.1:12111 for the emulator. */
  STRIPE_API_URL: Type.Optional(Type.String()),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: Type.Integer({ default: 300, minimum: 1 }),

  /** Where browsers reach billing (through the gateway); the success/cancel/portal return URLs derive from it. */
  PUBLIC_URL: Type.String({ default: 'http://localhost:8080' }),
  CHECKOUT_SUCCESS_URL: Type.Optional(Type.String()),
  CHECKOUT_CANCEL_URL: Type.Optional(Type.String()),
  PORTAL_RETURN_URL: Type.Optional(Type.String()),

  /** The AdminJS panel's login (/admin). Development default admin/admin; refused in production. */
  ADMIN_LOGIN: Type.String({ default: 'admin' }),
  ADMIN_PASSWORD: Type.String({ default: DEV_ADMIN_PASSWORD }),
  /** Signs the admin session cookie (at least 32 characters). */
  ADMIN_COOKIE_SECRET: Type.String({ default: DEV_ADMIN_COOKIE_SECRET, minLength: 32 }),
  /** How long an admin panel session lasts (kept in the database, shared by every replica). */
  ADMIN_SESSION_TTL_SECONDS: Type.Integer({ default: 8 * 3600, minimum: 60 }),
  /** Admin login attempts per client address and minute (auth's AUTH_RATE_LIMIT_PER_MINUTE default). */
  ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 30, minimum: 1 }),
  /** The admin login's lockout: the same variables, and defaults, as auth's. */
  LOCKOUT_THRESHOLD: Type.Integer({ default: 10, minimum: 1 }),
  LOCKOUT_BASE_SECONDS: Type.Integer({ default: 60, minimum: 1 }),
  LOCKOUT_MAX_SECONDS: Type.Integer({ default: 900, minimum: 1 }),

  /**
   * Product ids that may be bought even without `tollgate_sellable=true` in
   * their Stripe metadata (comma-separated). Everything else on the account
   * (staff, $0, legacy products) cannot be checked out.
   */
  SELLABLE_PRODUCTS: Type.String({ default: '' }),

  /**
   * Refuse checkout (403 email_not_verified) to users whose access token
   * does not say `email_verified: true`. Off by default: it needs auth to
   * send mail (SMTP_URL), and accounts made before verification existed
   * start unverified (architecture/decisions/0022-identity-email-and-mfa.md).
   */
  REQUIRE_VERIFIED_EMAIL: Type.Boolean({ default: false }),

  /**
   * Dunning (domain/dunning): days a past_due subscription keeps access,
   * from the first failed renewal (fractions allowed). The default, 14, is
   * the end of Stripe's default retry schedule (Smart Retries: 8 tries in 2 weeks).
   */
  BILLING_GRACE_DAYS: Type.Number({ default: 14, minimum: 0 }),
  /** Dunning's optional restricted step: after this many days past_due only the restricted set is kept. */
  DUNNING_RESTRICT_AFTER_DAYS: Type.Optional(Type.Number({ minimum: 0 })),
  /** The restricted step's features: `key` or `key=limit`, comma-separated (only those the plan grants). */
  DUNNING_RESTRICTED_FEATURES: Type.String({ default: '' }),
  /** The role the restricted step keeps instead of the plan's (unset: none). */
  DUNNING_RESTRICTED_ROLE: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{1,63}$' })),

  /** Run the queue workers inside the HTTP server process (false when `npm run worker` runs them). */
  RUN_WORKER: Type.Boolean({ default: true }),
  /** Attempts of a webhook event before it is dead-lettered. */
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({ default: 8, minimum: 1 }),
  WEBHOOK_RETRY_DELAY_SECONDS: Type.Integer({ default: 2, minimum: 1 }),
  /** Role sync retries forever; the delay doubles (with jitter) up to this cap. */
  ROLE_SYNC_RETRY_DELAY_SECONDS: Type.Integer({ default: 1, minimum: 1 }),
  ROLE_SYNC_RETRY_DELAY_MAX_SECONDS: Type.Integer({ default: 300, minimum: 1 }),
  /** How often idle workers look for new jobs (new jobs are also announced by NOTIFY). */
  WORKER_POLL_SECONDS: Type.Number({ default: 2, minimum: 0.5 }),
  /**
   * Webhook events in flight per process, and jobs taken per fetch. A full
   * batch is followed by the next fetch at once (no poll wait), so a backlog
   * drains at processing speed. Keep the concurrency below DATABASE_POOL_MAX.
   */
  WEBHOOK_CONCURRENCY: Type.Integer({ default: 6, minimum: 1 }),
  ROLE_SYNC_CONCURRENCY: Type.Integer({ default: 4, minimum: 1 }),
  WORKER_BATCH_SIZE: Type.Integer({ default: 10, minimum: 1, maximum: 100 }),
  /**
   * A running job's heartbeat: a job whose worker died (kill -9) is failed and
   * retried once no heartbeat came for this long (pg-boss's minimum is 10).
   */
  QUEUE_HEARTBEAT_SECONDS: Type.Integer({ default: 10, minimum: 10 }),
  /** How often pg-boss looks for jobs with a lost heartbeat (and expired ones). */
  QUEUE_SUPERVISE_SECONDS: Type.Integer({ default: 2, minimum: 1 }),
  /**
   * How often each worker process looks for workers that died (their liveness lock
   * is free) and fails their jobs into a retry: a kill -9 costs about this long
   * plus the retry delay, instead of the heartbeat's 10 s+ (ADR 0015).
   */
  QUEUE_REAP_SECONDS: Type.Number({ default: 1, minimum: 0.2 }),
  /** How often Stripe and auth are probed; a dependency coming back re-drives the work it held up. */
  DEPENDENCY_PROBE_SECONDS: Type.Number({ default: 2, minimum: 0.5 }),
  /** Automatic re-drives of a dead webhook event before it stays dead for an admin (with a warning). */
  WEBHOOK_REDRIVE_LIMIT: Type.Integer({ default: 3, minimum: 0 }),
  /** How often Stripe's event list is read for events whose webhooks never arrived (0 = never). */
  STRIPE_CATCHUP_SECONDS: Type.Integer({ default: 60, minimum: 0 }),
  /** How far back the first catch-up reads (Stripe retries a webhook for 3 days). */
  STRIPE_CATCHUP_LOOKBACK_SECONDS: Type.Integer({ default: 259_200, minimum: 60 }),
  /** How often past_due subscriptions are checked for an ended grace period. */
  GRACE_SWEEP_SECONDS: Type.Integer({ default: 300, minimum: 1 }),
});

type RawConfig = Static<typeof ConfigSchema>;

export interface Config {
  env: RawConfig['NODE_ENV'];
  host: string;
  port: number;
  logLevel: string;
  /** SHUTDOWN_DRAIN_SECONDS in ms. */
  shutdownDrainMs: number;
  trustProxy: boolean | string[];
  /** METRICS_TOKEN: the bearer token /metrics asks for, if any. */
  metricsToken?: string;
  databaseUrl: string;
  /** Connections per replica: Prisma's pool, pg-boss's pool (+1 LISTEN, +1 liveness connection). */
  pools: { database: number; queue: number };
  redisUrl: string;
  redisKeyPrefix: string;
  redisCommandTimeoutMs: number;
  revocationCacheMs: number;
  auth: {
    url: string;
    issuer: string;
    audience: string;
    clientId: string;
    clientSecret: string;
    timeoutMs: number;
  };
  stripe: {
    secretKey: string;
    webhookSecret: string;
    webhookToleranceSeconds: number;
    /** Only set when STRIPE_API_URL is: the SDK's default is api.stripe.com over https. */
    host?: string;
    port?: number;
    protocol?: 'http' | 'https';
  };
  urls: { success: string; cancel: string; portalReturn: string };
  admin: {
    login: string;
    password: string;
    cookieSecret: string;
    sessionTtlSeconds: number;
    loginRateLimitPerMinute: number;
    lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  };
  /** SELLABLE_PRODUCTS: sellable whatever their metadata says. */
  sellableProductIds: string[];
  /** The dunning policy (past_due -> optional restricted -> revoked), all of it from here. */
  dunning: DunningPolicy;
  /** Checkout only for users whose token carries email_verified: true. */
  requireVerifiedEmail: boolean;
  worker: {
    runInProcess: boolean;
    webhookMaxAttempts: number;
    webhookRetryDelaySeconds: number;
    roleSyncRetryDelaySeconds: number;
    roleSyncRetryDelayMaxSeconds: number;
    pollSeconds: number;
    graceSweepSeconds: number;
    webhookConcurrency: number;
    roleSyncConcurrency: number;
    batchSize: number;
    heartbeatSeconds: number;
    superviseSeconds: number;
    reapSeconds: number;
    probeSeconds: number;
    webhookRedriveLimit: number;
    catchupSeconds: number;
    catchupLookbackSeconds: number;
  };
}

export { ConfigError };

function dunningPolicy(raw: RawConfig): DunningPolicy {
  let features: DunningPolicy['restricted']['features'];
  try {
    features = parseFeatureList(raw.DUNNING_RESTRICTED_FEATURES);
  } catch (error) {
    throw new ConfigError(`DUNNING_RESTRICTED_FEATURES: ${(error as Error).message}`);
  }
  return {
    pastDueDays: raw.BILLING_GRACE_DAYS,
    restrictAfterDays: raw.DUNNING_RESTRICT_AFTER_DAYS ?? null,
    restricted: { features, role: raw.DUNNING_RESTRICTED_ROLE ?? null },
  };
}

function parseStripeApiUrl(value: string | undefined): Pick<Config['stripe'], 'host' | 'port' | 'protocol'> {
  if (!value) return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`STRIPE_API_URL "${value}" is not a URL`);
  }
  const protocol = url.protocol.replace(':', '');
  if (protocol !== 'http' && protocol !== 'https')
    throw new ConfigError('STRIPE_API_URL must be http or https');
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
    protocol,
  };
}

function productionProblems(raw: RawConfig, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!env.DATABASE_URL) problems.push('DATABASE_URL must be set');
  if (raw.STRIPE_SECRET_KEY === DEV_STRIPE_SECRET_KEY)
    problems.push('STRIPE_SECRET_KEY must not be the development key');
  if (raw.STRIPE_WEBHOOK_SECRET === DEV_STRIPE_WEBHOOK_SECRET)
    problems.push('STRIPE_WEBHOOK_SECRET must not be the development secret');
  if (raw.AUTH_CLIENT_SECRET === DEV_AUTH_CLIENT_SECRET || raw.AUTH_CLIENT_SECRET.length < 24)
    problems.push('AUTH_CLIENT_SECRET must be set to a secret of at least 24 characters');
  if (
    KNOWN_ADMIN_PASSWORDS.has(raw.ADMIN_PASSWORD.toLowerCase()) ||
    raw.ADMIN_PASSWORD === raw.ADMIN_LOGIN ||
    raw.ADMIN_PASSWORD.length < 12
  )
    problems.push(
      'ADMIN_PASSWORD must be set to a password of at least 12 characters, not the development default',
    );
  if (raw.ADMIN_COOKIE_SECRET === DEV_ADMIN_COOKIE_SECRET)
    problems.push('ADMIN_COOKIE_SECRET must not be the development secret');
  return problems;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = loadEnv(ConfigSchema, env, productionProblems);
  const publicUrl = raw.PUBLIC_URL.replace(/\/+$/, '');
  return {
    env: raw.NODE_ENV,
    host: raw.HOST,
    port: raw.PORT,
    logLevel: raw.LOG_LEVEL,
    shutdownDrainMs: raw.SHUTDOWN_DRAIN_SECONDS * 1000,
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    ...(raw.METRICS_TOKEN ? { metricsToken: raw.METRICS_TOKEN } : {}),
    databaseUrl: raw.DATABASE_URL,
    pools: { database: raw.DATABASE_POOL_MAX, queue: raw.QUEUE_POOL_MAX },
    redisUrl: raw.REDIS_URL,
    redisKeyPrefix: raw.REDIS_KEY_PREFIX,
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    revocationCacheMs: raw.REVOCATION_CACHE_MS,
    auth: {
      url: raw.AUTH_URL.replace(/\/+$/, ''),
      issuer: raw.JWT_ISSUER,
      audience: raw.JWT_AUDIENCE,
      clientId: raw.AUTH_CLIENT_ID,
      clientSecret: raw.AUTH_CLIENT_SECRET,
      timeoutMs: raw.AUTH_TIMEOUT_MS,
    },
    stripe: {
      secretKey: raw.STRIPE_SECRET_KEY,
      webhookSecret: raw.STRIPE_WEBHOOK_SECRET,
      webhookToleranceSeconds: raw.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      ...parseStripeApiUrl(raw.STRIPE_API_URL),
    },
    urls: {
      success: raw.CHECKOUT_SUCCESS_URL ?? `${publicUrl}/api/v1/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel: raw.CHECKOUT_CANCEL_URL ?? `${publicUrl}/api/v1/cancel`,
      portalReturn: raw.PORTAL_RETURN_URL ?? `${publicUrl}/`,
    },
    admin: {
      login: raw.ADMIN_LOGIN,
      password: raw.ADMIN_PASSWORD,
      cookieSecret: raw.ADMIN_COOKIE_SECRET,
      sessionTtlSeconds: raw.ADMIN_SESSION_TTL_SECONDS,
      loginRateLimitPerMinute: raw.ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE,
      lockout: {
        threshold: raw.LOCKOUT_THRESHOLD,
        baseSeconds: raw.LOCKOUT_BASE_SECONDS,
        maxSeconds: raw.LOCKOUT_MAX_SECONDS,
      },
    },
    sellableProductIds: raw.SELLABLE_PRODUCTS.split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    dunning: dunningPolicy(raw),
    requireVerifiedEmail: raw.REQUIRE_VERIFIED_EMAIL,
    worker: {
      runInProcess: raw.RUN_WORKER,
      webhookMaxAttempts: raw.WEBHOOK_MAX_ATTEMPTS,
      webhookRetryDelaySeconds: raw.WEBHOOK_RETRY_DELAY_SECONDS,
      roleSyncRetryDelaySeconds: raw.ROLE_SYNC_RETRY_DELAY_SECONDS,
      roleSyncRetryDelayMaxSeconds: raw.ROLE_SYNC_RETRY_DELAY_MAX_SECONDS,
      pollSeconds: raw.WORKER_POLL_SECONDS,
      graceSweepSeconds: raw.GRACE_SWEEP_SECONDS,
      webhookConcurrency: raw.WEBHOOK_CONCURRENCY,
      roleSyncConcurrency: raw.ROLE_SYNC_CONCURRENCY,
      batchSize: raw.WORKER_BATCH_SIZE,
      heartbeatSeconds: raw.QUEUE_HEARTBEAT_SECONDS,
      superviseSeconds: raw.QUEUE_SUPERVISE_SECONDS,
      reapSeconds: raw.QUEUE_REAP_SECONDS,
      probeSeconds: raw.DEPENDENCY_PROBE_SECONDS,
      webhookRedriveLimit: raw.WEBHOOK_REDRIVE_LIMIT,
      catchupSeconds: raw.STRIPE_CATCHUP_SECONDS,
      catchupLookbackSeconds: raw.STRIPE_CATCHUP_LOOKBACK_SECONDS,
    },
  };
}

/**
 * loadConfig for a process entry point: a configuration it must refuse (dev
 * secrets or the dev admin password in production, a malformed variable) is
 * one line on stderr and exit code 1, not a stack trace.
 */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    // loadConfig only reads the environment: whatever it throws is about a variable.
    process.stderr.write(`billing: ${String((error as Error).message).replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  }
}
