/**
 * The Postgres pool under each service's Prisma client, made to survive
 * backends that die while a client is checked out (architecture/decisions/0026-prisma-pool-dead-connections.md).
 *
 * Why: @prisma/adapter-pg (6.19) gives a client back to the pool only after
 * Prisma's engine has sent COMMIT or ROLLBACK through it. When the backend
 * is terminated in the middle of an interactive transaction (a Postgres
 * restart, a failover, pg_terminate_backend, a network cut), that ROLLBACK
 * fails, the adapter's release is never called, and the pool still counts
 * the dead client as checked out. After `max` such transactions the pool
 * holds nothing but dead clients and every query waits for ever: readiness
 * times out, requests hang, webhooks are not acknowledged. Measured: one
 * termination of every backend under a transaction load wedged a pool of 4
 * for good.
 *
 * The pool here watches each client it lends: when the connection ends while
 * the client is lent, the client is handed back with the error at once (so
 * pg-pool removes it and opens a fresh one on demand), and the borrower's
 * own release, when it finally comes, does nothing. Borrowers still see
 * their query fail; nothing else changes. A bounded wait for a client
 * (`connectionTimeoutMillis`) makes any other leak show up as errors
 * instead of a silent hang.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

export interface PostgresPoolOptions {
  connectionString: string;
  /** The most connections the pool opens (DATABASE_POOL_MAX). */
  max: number;
  /** How long a caller waits for a free client before failing (default 10 s). */
  connectionTimeoutMillis?: number;
  /** How long an unused connection stays open (pg's default: 10 s). */
  idleTimeoutMillis?: number;
}

/** Counters a pool keeps about the clients it took back from the dead. */
export interface PoolRecovery {
  /** Clients whose connection ended while they were lent, returned to the pool on their borrower's behalf. */
  reclaimed: number;
}

const recoveries = new WeakMap<pg.Pool, PoolRecovery>();

/** What `pool` has reclaimed so far (zeros for a pool not made here). */
export function poolRecovery(pool: pg.Pool): PoolRecovery {
  return recoveries.get(pool) ?? { reclaimed: 0 };
}

export function createPostgresPool(options: PostgresPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    ...(options.idleTimeoutMillis !== undefined && { idleTimeoutMillis: options.idleTimeoutMillis }),
  });
  const recovery: PoolRecovery = { reclaimed: 0 };
  recoveries.set(pool, recovery);
  const watchers = new WeakMap<pg.PoolClient, () => void>();

  pool.on('acquire', (client) => {
    const onEnd = () => {
      watchers.delete(client);
      // pg-pool assigns `release` just after 'acquire'; by the time a
      // connection ends (a later tick) it is there.
      const release = client.release;
      client.release = () => {};
      recovery.reclaimed++;
      release(new Error('the connection ended while the client was checked out'));
    };
    watchers.set(client, onEnd);
    client.once('end', onEnd);
  });
  pool.on('release', (_error, client) => {
    const onEnd = watchers.get(client as pg.PoolClient);
    if (!onEnd) return;
    watchers.delete(client as pg.PoolClient);
    client.removeListener('end', onEnd);
  });
  // An idle client whose connection dies: pg-pool removes it; without a
  // listener the 'error' would be thrown.
  pool.on('error', () => {});
  return pool;
}

/** Prisma's driver adapter over a pool from createPostgresPool; the client ends the pool when it disconnects. */
export function createPrismaPgAdapter(options: PostgresPoolOptions): PrismaPg {
  return prismaPgAdapterOver(createPostgresPool(options));
}

/** The same over a pool the caller also queries directly (plain SQL on a hot path). */
export function prismaPgAdapterOver(pool: pg.Pool): PrismaPg {
  return new PrismaPg(pool, { disposeExternalPool: true });
}
