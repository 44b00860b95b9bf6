/**
 * How billing's commands start and fail: the database is created and
 * migrated first (a command run before the service ever started must not
 * die on "relation does not exist"), and a failure is one line that says
 * what to do, not a stack trace.
 */
import { bootstrapDatabase } from '../bootstrap.js';
import { type Config, loadConfig } from '../config.js';

/** The one line a command prints for an error it cannot go on after. */
export function describeFailure(error: unknown, config?: Config): string {
  const e = error as { type?: string; code?: string; message?: string };
  if (e?.type === 'StripeConnectionError') {
    const where = config?.stripe.host
      ? `${config.stripe.protocol}://${config.stripe.host}:${config.stripe.port}`
      : 'api.stripe.com';
    return `cannot reach Stripe at ${where}: check the network, or STRIPE_API_URL (the emulator: npm start, or npm run -w @tollgate/stripe-emulator start)`;
  }
  if (e?.type === 'StripeAuthenticationError') {
    return `Stripe rejected STRIPE_SECRET_KEY (${e.message}): set the account's secret key`;
  }
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED|Can't reach database server/.test(e?.message ?? '')) {
    return `cannot reach the database (DATABASE_URL${config ? ` = ${redactPassword(config.databaseUrl)}` : ''}): start PostgreSQL (npm start runs one) or point DATABASE_URL at yours`;
  }
  return (e?.message ?? String(error)).split('\n')[0]!;
}

function redactPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'unparseable';
  }
}

/** Loads the config, migrates, runs `main`, and exits: 0, `main`'s code, or 1 with one line. */
export async function runCommand(name: string, main: (config: Config) => Promise<number>) {
  let config: Config | undefined;
  try {
    config = loadConfig();
    await bootstrapDatabase(config, (message) => console.error(`${name}: ${message}`));
    const code = await main(config);
    process.exit(code);
  } catch (error) {
    console.error(`${name}: ${describeFailure(error, config)}`);
    process.exit(1);
  }
}
