/**
 * What `npm start` reads from the environment; nothing else in the dev
 * stack reads process.env (each service's own settings still come from its
 * own config schema, with the stack's choices layered on top).
 */
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { envSchema } from 'env-schema';

const Schema = Type.Object({
  /** A PostgreSQL server to use instead of the embedded one (its databases tollgate_auth and tollgate_billing are created). */
  DATABASE_URL: Type.Optional(Type.String()),
  /** Redis to use; without it the services share an in-process store and run in this one process. */
  REDIS_URL: Type.Optional(Type.String()),
  /** Real Stripe (test mode) instead of the emulator; needs STRIPE_WEBHOOK_SECRET and webhook forwarding. */
  STRIPE_SECRET_KEY: Type.Optional(Type.String()),
  STRIPE_WEBHOOK_SECRET: Type.Optional(Type.String()),
  /** Where the embedded database, signing keys and emulator state live. */
  DATA_DIR: Type.String({ default: '.data' }),
  EMBEDDED_POSTGRES_PORT: Type.Integer({ default: 15432 }),
  GATEWAY_PORT: Type.Integer({ default: 8080 }),
  AUTH_PORT: Type.Integer({ default: 3001 }),
  BILLING_PORT: Type.Integer({ default: 3002 }),
  EMULATOR_PORT: Type.Integer({ default: 12111 }),
  /** The services' log level (their request logs are noisy for a terminal). */
  LOG_LEVEL: Type.String({ default: 'warn' }),
});

export type StackConfig = Static<typeof Schema> & { dataDir: string };

export function loadStackConfig(env: Record<string, string | undefined>, cwd: string): StackConfig {
  const raw = envSchema<Static<typeof Schema>>({ schema: Schema, data: env, env: false, dotenv: false });
  if (raw.STRIPE_SECRET_KEY && !raw.STRIPE_WEBHOOK_SECRET) {
    throw new Error(
      'STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: set both to use real Stripe (see README)',
    );
  }
  return { ...raw, dataDir: path.resolve(cwd, raw.DATA_DIR) };
}

/** The same server URL pointing at another database. */
export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
