import { createPrismaPgAdapter } from '@tollgate/service-kit/postgres';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

/**
 * @param max the pool's size (DATABASE_POOL_MAX); pg's default of 10 for one-off commands.
 * Its pool reclaims clients whose connection died mid-transaction (service-kit/postgres.ts).
 */
export function createPrismaClient(databaseUrl: string, max = 10): Db {
  return new PrismaClient({ adapter: createPrismaPgAdapter({ connectionString: databaseUrl, max }) });
}

/** True when `error` is a unique-constraint violation (Prisma P2002) on a field named `field`. */
export function isUniqueViolation(error: unknown, field?: string): boolean {
  const e = error as { code?: string; meta?: Record<string, unknown> };
  if (e?.code !== 'P2002') return false;
  if (!field) return true;
  const meta = JSON.stringify(e.meta ?? {});
  return meta.includes(field);
}
