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
  /** Where auth sends account mail instead of the local mail catcher (e.g. smtp://user:pass@smtp.example:587). */
  SMTP_URL: Type.Optional(Type.String()),
  /** The local mail catcher (MailDev): its SMTP port and its web inbox. */
  MAIL_SMTP_PORT: Type.Integer({ default: 1025 }),
  MAIL_WEB_PORT: Type.Integer({ default: 1080 }),
  /** The services' log level; request lines are logged at info. */
  LOG_LEVEL: Type.String({ default: 'info' }),
});

/** For `--help`: every variable above, with its default and meaning (dev/test/cli.test.ts keeps them in step). */
export const STACK_VARIABLES: {
  name: keyof Static<typeof Schema>;
  defaultText: string;
  description: string;
}[] = [
  {
    name: 'DATA_DIR',
    defaultText: '.data',
    description: 'embedded database, signing keys, emulator state, logs',
  },
  {
    name: 'GATEWAY_PORT',
    defaultText: '8080',
    description: 'the gateway: pages, APIs, Swagger UI, admin panel',
  },
  { name: 'AUTH_PORT', defaultText: '3001', description: 'auth (loopback only)' },
  { name: 'BILLING_PORT', defaultText: '3002', description: 'billing (loopback only)' },
  { name: 'EMULATOR_PORT', defaultText: '12111', description: 'the Stripe emulator (hosted checkout pages)' },
  { name: 'EMBEDDED_POSTGRES_PORT', defaultText: '15432', description: 'the embedded PostgreSQL' },
  { name: 'MAIL_SMTP_PORT', defaultText: '1025', description: 'the mail catcher (MailDev) takes mail here' },
  { name: 'MAIL_WEB_PORT', defaultText: '1080', description: "the mail catcher's web inbox" },
  { name: 'SMTP_URL', defaultText: 'the mail catcher', description: 'a real SMTP server for account mail' },
  { name: 'DATABASE_URL', defaultText: 'embedded PostgreSQL', description: 'a server to use instead' },
  {
    name: 'REDIS_URL',
    defaultText: 'in-process store',
    description: 'Redis for revocations, lockouts, rate limits',
  },
  {
    name: 'STRIPE_SECRET_KEY',
    defaultText: 'the emulator',
    description: 'real Stripe (test mode); checked at start',
  },
  {
    name: 'STRIPE_WEBHOOK_SECRET',
    defaultText: '-',
    description: 'with STRIPE_SECRET_KEY: `stripe listen` secret',
  },
  { name: 'LOG_LEVEL', defaultText: 'info', description: "the services' log level (request lines at info)" },
];

/** A mistake in the environment: printed as one line, then npm start exits 1. */
export class StartError extends Error {
  override name = 'StartError';
}

export type StackConfig = Static<typeof Schema> & { dataDir: string };

export function loadStackConfig(env: Record<string, string | undefined>, cwd: string): StackConfig {
  let raw: Static<typeof Schema>;
  try {
    raw = envSchema<Static<typeof Schema>>({ schema: Schema, data: env, env: false, dotenv: false });
  } catch (error) {
    // env-schema says e.g. "env/GATEWAY_PORT must be integer".
    throw new StartError(
      `${(error as Error).message.replace(/^env\//, '')} (npm start -- --help lists the variables)`,
    );
  }
  if (raw.STRIPE_SECRET_KEY && !raw.STRIPE_WEBHOOK_SECRET) {
    throw new StartError(
      'STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: run `stripe listen --forward-to localhost:8080/api/v1/webhook` and set STRIPE_WEBHOOK_SECRET to the whsec_… it prints (README, "Real Stripe")',
    );
  }
  if (!raw.STRIPE_SECRET_KEY && raw.STRIPE_WEBHOOK_SECRET) {
    throw new StartError(
      'STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is not: set both to use real Stripe, or neither for the emulator',
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
