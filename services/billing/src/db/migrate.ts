import path from 'node:path';
import { applyMigrations } from '@tollgate/migrate';

export const MIGRATIONS_DIR = path.join(import.meta.dirname, '..', '..', 'prisma', 'migrations');

export function migrateBillingDatabase(databaseUrl: string, log?: (message: string) => void) {
  return applyMigrations({ databaseUrl, migrationsDir: MIGRATIONS_DIR, log });
}
