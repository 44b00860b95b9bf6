import { createPostgresPool, prismaPgAdapterOver } from '@tollgate/service-kit/postgres';
import type pg from 'pg';
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
  return createDatabase(databaseUrl, max).db;
}

/** A plain SQL query over the pool under Prisma (pg.Pool satisfies it). */
export type Sql = Pick<pg.Pool, 'query'>;

/**
 * The Prisma client and the pool under it, for the few reads on a hot path
 * that skip Prisma: each Prisma query compiles its plan in WebAssembly first,
 * which cost more CPU than the rest of a small request (ADR 0018). One pool:
 * the connection budget (README) stays DATABASE_POOL_MAX.
 */
export function createDatabase(databaseUrl: string, max: number): { db: Db; sql: Sql } {
  const pool = createPostgresPool({ connectionString: databaseUrl, max });
  // The client ends the pool when it disconnects.
  const db = new PrismaClient({ adapter: prismaPgAdapterOver(pool) });
  return { db, sql: pool };
}

/** True when `error` is a unique-constraint violation (Prisma P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === 'P2002';
}
