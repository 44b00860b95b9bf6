/** What has to be true of the database before billing answers: it exists and is migrated. */
import { ensureDatabase } from '@tollgate/migrate';
import type { Config } from './config.js';
import type { Billing } from './context.js';
import { migrateBillingDatabase } from './db/migrate.js';

export type Log = (message: string) => void;

export async function bootstrapDatabase(config: Config, log: Log): Promise<void> {
  if (await ensureDatabase(config.databaseUrl)) log('created the database');
  const { applied } = await migrateBillingDatabase(config.databaseUrl, log);
  if (applied.length === 0) log('database schema is up to date');
}

/**
 * Stripe sends no events for objects that existed before the webhook
 * endpoint did, so an empty catalogue mirror is filled from the API once.
 */
export async function seedCatalogIfEmpty(billing: Billing, log: Log): Promise<void> {
  if (!(await billing.catalog.isEmpty())) return;
  const { products, prices } = await billing.catalog.syncAll();
  log(`catalogue mirrored from Stripe: ${products} products, ${prices} prices`);
}
