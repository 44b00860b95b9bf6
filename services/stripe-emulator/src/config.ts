/**
 * The emulator's whole configuration: one typed schema over the environment.
 * Nothing else in the service reads process.env.
 */
import { type Static, Type } from '@sinclair/typebox';
import { envSchema } from 'env-schema';

export const DEFAULT_API_KEY = 'sk_test_tollgate';
export const DEFAULT_WEBHOOK_SECRET = 'whsec_tollgate_dev';
export const DEFAULT_PORT = 12111;

const ConfigSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  /** `localhost` answers on both 127.0.0.1 and ::1; the Docker image sets 0.0.0.0. */
  HOST: Type.String({ default: 'localhost' }),
  PORT: Type.Integer({ default: DEFAULT_PORT, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.String({ default: 'info' }),
  /** The only secret key the emulator accepts (Bearer or Basic). */
  EMULATOR_API_KEY: Type.String({ default: DEFAULT_API_KEY, pattern: '^sk_test_' }),
  /** Base of the hosted checkout and portal pages that browsers open; default http://localhost:PORT. */
  EMULATOR_PUBLIC_URL: Type.Optional(Type.String()),
  /** A webhook endpoint registered at start (e.g. billing's /api/v1/webhook). */
  EMULATOR_WEBHOOK_URL: Type.Optional(Type.String()),
  EMULATOR_WEBHOOK_SECRET: Type.String({ default: DEFAULT_WEBHOOK_SECRET, pattern: '^whsec_' }),
  /** Comma-separated event types for the env endpoint, `*` for all. */
  EMULATOR_WEBHOOK_EVENTS: Type.String({ default: '*' }),
  /** When set, state is loaded from and saved to this JSON file so a restart keeps customers. */
  EMULATOR_STATE_FILE: Type.Optional(Type.String()),
  /** Load the product catalogue at start (when the state is empty). */
  EMULATOR_SEED: Type.Boolean({ default: true }),
  /** A catalogue JSON file to use instead of the built-in one. */
  EMULATOR_SEED_FILE: Type.Optional(Type.String()),
  /** Webhook delivery: attempts per event and endpoint, the first retry delay (doubling), its cap, timeout. */
  EMULATOR_WEBHOOK_MAX_ATTEMPTS: Type.Integer({ default: 8, minimum: 1 }),
  EMULATOR_WEBHOOK_RETRY_BASE_MS: Type.Integer({ default: 1000, minimum: 0 }),
  EMULATOR_WEBHOOK_RETRY_MAX_MS: Type.Integer({ default: 60_000, minimum: 0 }),
  EMULATOR_WEBHOOK_TIMEOUT_MS: Type.Integer({ default: 10_000, minimum: 1 }),
  /** Deliveries in flight per endpoint; 1 keeps creation order (Stripe itself guarantees none). */
  EMULATOR_WEBHOOK_CONCURRENCY: Type.Integer({ default: 1, minimum: 1 }),
  /** Failed renewal payments: days between retries (comma-separated), then what happens. */
  EMULATOR_PAYMENT_RETRY_DAYS: Type.String({ default: '3,5,7' }),
  EMULATOR_AFTER_FINAL_RETRY: Type.Union(
    [Type.Literal('cancel'), Type.Literal('unpaid'), Type.Literal('past_due')],
    {
      default: 'cancel',
    },
  ),
  /** Stripe finalizes and charges a renewal invoice about an hour after creating it. */
  EMULATOR_INVOICE_FINALIZE_DELAY_SECONDS: Type.Integer({ default: 3600, minimum: 0 }),
  /** How often scheduled work (renewals, expiries) is checked against the wall clock. */
  EMULATOR_TICK_MS: Type.Integer({ default: 1000, minimum: 10 }),
});

type RawConfig = Static<typeof ConfigSchema>;

export type AfterFinalRetry = RawConfig['EMULATOR_AFTER_FINAL_RETRY'];

export interface EmulatorConfig {
  host: string;
  port: number;
  logLevel: string;
  apiKey: string;
  /** Without a trailing slash; undefined means http://localhost:<listening port>. */
  publicUrl: string | undefined;
  webhookUrl: string | undefined;
  webhookSecret: string;
  webhookEvents: string[];
  stateFile: string | undefined;
  seed: boolean;
  seedFile: string | undefined;
  webhookMaxAttempts: number;
  webhookRetryBaseMs: number;
  webhookRetryMaxMs: number;
  webhookTimeoutMs: number;
  webhookConcurrency: number;
  paymentRetryDays: number[];
  afterFinalRetry: AfterFinalRetry;
  invoiceFinalizeDelaySeconds: number;
  tickMs: number;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): EmulatorConfig {
  const raw = envSchema<RawConfig>({ schema: ConfigSchema, data: env, dotenv: false });
  const retryDays = raw.EMULATOR_PAYMENT_RETRY_DAYS.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (retryDays.some((d) => !Number.isFinite(d) || d <= 0)) {
    throw new Error('EMULATOR_PAYMENT_RETRY_DAYS must be a comma-separated list of positive numbers');
  }
  return {
    host: raw.HOST,
    port: raw.PORT,
    logLevel: raw.LOG_LEVEL,
    apiKey: raw.EMULATOR_API_KEY,
    publicUrl: raw.EMULATOR_PUBLIC_URL?.replace(/\/+$/, '') || undefined,
    webhookUrl: raw.EMULATOR_WEBHOOK_URL || undefined,
    webhookSecret: raw.EMULATOR_WEBHOOK_SECRET,
    webhookEvents: raw.EMULATOR_WEBHOOK_EVENTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    stateFile: raw.EMULATOR_STATE_FILE || undefined,
    seed: raw.EMULATOR_SEED,
    seedFile: raw.EMULATOR_SEED_FILE || undefined,
    webhookMaxAttempts: raw.EMULATOR_WEBHOOK_MAX_ATTEMPTS,
    webhookRetryBaseMs: raw.EMULATOR_WEBHOOK_RETRY_BASE_MS,
    webhookRetryMaxMs: raw.EMULATOR_WEBHOOK_RETRY_MAX_MS,
    webhookTimeoutMs: raw.EMULATOR_WEBHOOK_TIMEOUT_MS,
    webhookConcurrency: raw.EMULATOR_WEBHOOK_CONCURRENCY,
    paymentRetryDays: retryDays,
    afterFinalRetry: raw.EMULATOR_AFTER_FINAL_RETRY,
    invoiceFinalizeDelaySeconds: raw.EMULATOR_INVOICE_FINALIZE_DELAY_SECONDS,
    tickMs: raw.EMULATOR_TICK_MS,
  };
}

/** For the seed-stripe script: the real Stripe account it writes to. */
export function loadSeedScriptConfig(env: Record<string, string | undefined> = process.env): {
  secretKey: string;
  apiUrl: string | undefined;
} {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new Error('STRIPE_SECRET_KEY is required (a test-mode secret key, sk_test_...)');
  return { secretKey: key, apiUrl: env.STRIPE_API_URL || undefined };
}

/** For the bench script. */
export function loadBenchConfig(env: Record<string, string | undefined> = process.env): {
  durationSeconds: number;
  connections: number;
  webhookEvents: number;
} {
  return {
    durationSeconds: Number(env.BENCH_DURATION_SECONDS ?? 5),
    connections: Number(env.BENCH_CONNECTIONS ?? 10),
    webhookEvents: Number(env.BENCH_WEBHOOK_EVENTS ?? 2000),
  };
}
