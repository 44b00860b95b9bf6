/**
 * The pool under Prisma (postgres.ts) against a real PostgreSQL: a client
 * whose backend is terminated while it is lent, and which its borrower never
 * releases (what @prisma/adapter-pg does when ROLLBACK fails), must not cost
 * the pool a slot.
 */
import { type ProvisionedDatabase, provisionDatabase } from '@tollgate/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPool, poolRecovery } from './postgres.js';

let database: ProvisionedDatabase;
let admin: pg.Client;

beforeAll(async () => {
  database = await provisionDatabase('service_kit_pool');
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await database?.release();
});

async function terminate(pids: number[]) {
  await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
}

async function until(check: () => boolean, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('createPostgresPool', () => {
  it('takes back lent clients whose backend died, so the pool never runs dry', async () => {
    const pool = createPostgresPool({
      connectionString: database.url,
      max: 2,
      connectionTimeoutMillis: 3_000,
    });
    try {
      const lent = await Promise.all([pool.connect(), pool.connect()]);
      const pids: number[] = [];
      for (const client of lent) {
        // A transaction in progress, as Prisma's interactive transactions hold one.
        client.on('error', () => {});
        await client.query('BEGIN');
        pids.push((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
      }
      await terminate(pids);
      await until(() => poolRecovery(pool).reclaimed === 2);

      // The borrowers never released them; the pool must still answer, on fresh connections.
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(pids).not.toContain(rows[0]!.pid);
      expect(pool.totalCount).toBeLessThanOrEqual(2);
      // A borrower's late release is harmless (pg-pool would otherwise throw on a double release).
      for (const client of lent) expect(() => client.release()).not.toThrow();
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('leaves clients released normally alone: they return to the pool and are reused', async () => {
    const pool = createPostgresPool({ connectionString: database.url, max: 1 });
    try {
      const first = await pool.connect();
      const pid = (await first.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      first.release();
      const again = await pool.connect();
      expect((await again.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid).toBe(pid);
      again.release();
      // Terminating an idle client's backend is pg-pool's own business: it drops it, and nothing is reclaimed.
      await terminate([pid]);
      await until(() => pool.totalCount === 0);
      expect(poolRecovery(pool).reclaimed).toBe(0);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('fails a caller that waits longer than connectionTimeoutMillis instead of hanging', async () => {
    const pool = createPostgresPool({ connectionString: database.url, max: 1, connectionTimeoutMillis: 200 });
    const held = await pool.connect();
    try {
      await expect(pool.query('SELECT 1')).rejects.toThrow(/timeout/i);
    } finally {
      held.release();
      await pool.end();
    }
  });
});
