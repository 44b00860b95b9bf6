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

/** A statement: text, or a named one (each connection parses and plans it once). */
export type Statement = string | { name?: string; text: string; values?: unknown[] };

/**
 * Plain SQL: the pool under Prisma, a pooled client inside a transaction
 * (`SqlPool.transaction`), or a Prisma interactive transaction (`sqlOf`).
 * Writers that must also run inside Prisma transactions take this, so each
 * statement exists once.
 */
export interface Sql {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    statement: Statement,
    values?: unknown[],
  ): Promise<{ rows: R[] }>;
}

/** The pool: plain queries, and transactions on one of its clients. */
export interface SqlPool extends Sql {
  /**
   * Runs `work` in a transaction on one pooled client, with no Prisma in the
   * way (each Prisma query compiles its plan first: on the payment -> role path
   * that cost more than Postgres's own work, ADR 0015). Only database work may
   * run inside: every statement, and every wait between them, is bounded by
   * `timeoutMs`, as Prisma's transaction timeout bounds its transactions.
   */
  transaction<T>(work: (sql: Sql) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
}

/**
 * The Prisma client and the pool under it, for the hot paths that skip
 * Prisma: each Prisma query compiles its plan in WebAssembly first, which cost
 * more CPU than the rest of a small request (ADR 0018). One pool: the
 * connection budget (README) stays DATABASE_POOL_MAX.
 */
export function createDatabase(databaseUrl: string, max: number): { db: Db; sql: SqlPool } {
  const pool = createPostgresPool({ connectionString: databaseUrl, max });
  // The client ends the pool when it disconnects.
  const db = new PrismaClient({ adapter: prismaPgAdapterOver(pool) });
  return { db, sql: sqlPool(pool) };
}

export function sqlPool(pool: pg.Pool): SqlPool {
  return {
    query: (statement, values) => run(pool, statement, values),
    async transaction(work, { timeoutMs = 15_000 } = {}) {
      const client = await pool.connect();
      // A client whose ROLLBACK failed is in an unknown state: the pool closes it instead of lending it again.
      let broken: Error | undefined;
      try {
        const ms = Math.trunc(timeoutMs);
        // Generic plans: the named statements of these hot paths are planned once per connection,
        // not at every run (pg-boss's job insert, the costliest, took 3 ms to plan; ADR 0015).
        await client.query(
          `BEGIN; SET LOCAL statement_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${ms};
           SET LOCAL plan_cache_mode = force_generic_plan`,
        );
        const result = await work({ query: (statement, values) => run(client, statement, values) });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}

function run<R extends pg.QueryResultRow>(
  on: pg.Pool | pg.PoolClient,
  statement: Statement,
  values?: unknown[],
): Promise<{ rows: R[] }> {
  return typeof statement === 'string'
    ? on.query<R>(statement, values)
    : on.query<R>({ name: statement.name, text: statement.text, values: statement.values ?? values });
}

/** The same statements inside a Prisma interactive transaction, or on its client (statement names do not apply). */
export function sqlOf(tx: Pick<Tx, '$queryRawUnsafe'>): Sql {
  return {
    async query<R extends pg.QueryResultRow>(statement: Statement, values?: unknown[]) {
      const text = typeof statement === 'string' ? statement : statement.text;
      const params = (typeof statement === 'string' ? values : (statement.values ?? values)) ?? [];
      return { rows: await tx.$queryRawUnsafe<R[]>(text, ...params) };
    },
  };
}

/** True when `error` is a unique-constraint violation (Prisma P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === 'P2002';
}
