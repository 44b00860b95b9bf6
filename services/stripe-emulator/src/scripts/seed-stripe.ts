/**
 * `npm run -w @tollgate/stripe-emulator seed-stripe`: the emulator's catalogue
 * into the Stripe account of STRIPE_SECRET_KEY (a test-mode key). STRIPE_API_URL
 * points it elsewhere (e.g. at an emulator started with EMULATOR_SEED=false).
 */
import Stripe from 'stripe';
import { loadSeedScriptConfig } from '../config.js';
import { readCatalogue } from '../domain/products-prices/seed.js';
import { seedStripe } from '../seed-stripe.js';

const config = loadSeedScriptConfig();
if (!config.secretKey.startsWith('sk_test_') && !config.secretKey.startsWith('rk_test_')) {
  throw new Error('Refusing to seed with a live key: use a test-mode key (sk_test_...).');
}
const url = config.apiUrl ? new URL(config.apiUrl) : null;
const stripe = new Stripe(
  config.secretKey,
  url
    ? {
        host: url.hostname,
        port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        protocol: url.protocol === 'https:' ? 'https' : 'http',
      }
    : {},
);
const report = await seedStripe(stripe, readCatalogue());
console.log(JSON.stringify(report, null, 2));
