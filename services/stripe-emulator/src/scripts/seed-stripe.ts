/**
 * `npm run -w @tollgate/stripe-emulator seed-stripe`: the emulator's catalogue
 * into the Stripe account of STRIPE_SECRET_KEY (a test-mode key). STRIPE_API_URL
 * points it elsewhere (e.g. at an emulator started with EMULATOR_SEED=false).
 */
import Stripe from 'stripe';
import { loadSeedScriptConfig } from '../config.js';
import { readCatalogue } from '../domain/products-prices/seed.js';
import { seedStripe } from '../seed-stripe.js';

/** One line for what went wrong, and what to do (no stack trace). */
function describe(error: unknown, where: string): string {
  const e = error as { type?: string; message?: string };
  if (e?.type === 'StripeConnectionError') {
    return `cannot reach Stripe at ${where}: check the network (or STRIPE_API_URL)`;
  }
  if (e?.type === 'StripeAuthenticationError') {
    return `Stripe rejected STRIPE_SECRET_KEY (${e.message}): use your account's test-mode secret key (sk_test_…)`;
  }
  return (e?.message ?? String(error)).split('\n')[0]!;
}

let where = 'api.stripe.com';
try {
  const config = loadSeedScriptConfig();
  if (!config.secretKey.startsWith('sk_test_') && !config.secretKey.startsWith('rk_test_')) {
    throw new Error('refusing to seed with a live key: use a test-mode key (sk_test_…)');
  }
  const url = config.apiUrl ? new URL(config.apiUrl) : null;
  if (url) where = url.origin;
  const stripe = new Stripe(
    config.secretKey,
    url
      ? {
          host: url.hostname,
          port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          protocol: url.protocol === 'https:' ? 'https' : 'http',
          maxNetworkRetries: 1,
        }
      : { maxNetworkRetries: 1 },
  );
  const report = await seedStripe(stripe, readCatalogue());
  console.log(JSON.stringify(report, null, 2));
} catch (error) {
  console.error(`seed-stripe: ${describe(error, where)}`);
  process.exit(1);
}
