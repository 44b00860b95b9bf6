/**
 * @tollgate/billing's public entry point: what the dev stack (`npm start`),
 * the end-to-end tests and the benches build a billing service from.
 * Everything else under src/ is internal: package.json's `exports` offers
 * this module only.
 */
export { buildApp } from './app.js';
export { bootstrapDatabase, seedCatalogIfEmpty } from './bootstrap.js';
export { type Config, loadConfig } from './config.js';
export { createBilling } from './context.js';
export { migrateBillingDatabase } from './db/migrate.js';
export { stripeSyncFor } from './domain/sync/stripe-sync.js';
export { createRequireUser } from './http-guards/authenticate.js';
export { startWorkers } from './jobs/workers.js';
export { createStripeClient, type Stripe } from './stripe/client.js';
