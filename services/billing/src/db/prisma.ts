import { createPrismaPgAdapter } from '@tollgate/service-kit/postgres';
import { Prisma, PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;
/** The client inside an interactive transaction. */
export type Tx = Prisma.TransactionClient;
export { Prisma };

/**
 * @param max the pool's size: DATABASE_POOL_MAX (see the README's connection budget).
 * Its pool reclaims clients whose connection died mid-transaction (service-kit/postgres.ts).
 */
export function createPrismaClient(databaseUrl: string, max: number): Db {
  return new PrismaClient({ adapter: createPrismaPgAdapter({ connectionString: databaseUrl, max }) });
}

/** True when `error` is a unique-constraint violation (Prisma P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === 'P2002';
}
