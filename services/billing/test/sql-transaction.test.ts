/**
 * The plain-SQL transactions of the hot paths (`SqlPool.transaction`) and the
 * names pg-boss's statements get, against a real Postgres: all or nothing, a
 * statement bounded by the transaction's timeout, and statements prepared once
 * per connection.
 */
import { provisionDatabase } from '@tollgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Db, type SqlPool } from '../src/db/prisma.js';
import { bossStatement } from '../src/queue/queue.js';

let db: Db;
let sql: SqlPool;
let release: () => Promise<void>;

beforeAll(async () => {
  const database = await provisionDatabase('billing_sqltx');
  release = database.release;
  ({ db, sql } = createDatabase(database.url, 2));
  await sql.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
});
afterAll(async () => {
  await db?.$disconnect();
  await release?.();
});

describe('SqlPool.transaction', () => {
  it('commits what the work wrote, and gives back what it returned', async () => {
    const result = await sql.transaction(async (tx) => {
      await tx.query('INSERT INTO notes VALUES (1, $1)', ['kept']);
      return 'done';
    });
    expect(result).toBe('done');
    expect((await sql.query('SELECT body FROM notes WHERE id = 1')).rows).toEqual([{ body: 'kept' }]);
  });

  it('rolls everything back when the work throws, and the connection serves the next caller', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO notes VALUES (2, $1)', ['lost']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await sql.query('SELECT count(*)::int AS n FROM notes WHERE id = 2')).rows).toEqual([{ n: 0 }]);
    // Both of the pool's connections are usable: neither was left inside the failed transaction.
    const inTransaction = await Promise.all(
      [1, 2].map(() =>
        sql.transaction(async (tx) => (await tx.query<{ now: Date }>('SELECT now() AS now')).rows[0]?.now),
      ),
    );
    expect(inTransaction.every((t) => t instanceof Date)).toBe(true);
  });

  it('bounds a statement by the timeout (a lock held elsewhere does not hang the work)', async () => {
    await sql.query('SELECT 1'); // a connection exists for the holder below
    const holder = await sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(42)');
      // Another transaction waits for the same lock; its statement times out.
      const waited = sql.transaction((other) => other.query('SELECT pg_advisory_xact_lock(42)'), {
        timeoutMs: 300,
      });
      return waited.then(
        () => 'acquired',
        (error: Error) => error.message,
      );
    });
    expect(holder).toMatch(/statement timeout/);
  });

  it('plans its named statements once per connection (generic plans)', async () => {
    const plans = await sql.transaction(async (tx) => {
      for (let i = 0; i < 3; i++)
        await tx.query({ name: 'notes-by-id', text: 'SELECT body FROM notes WHERE id = $1', values: [i] });
      return (
        await tx.query<{ generic_plans: number; custom_plans: number }>(
          "SELECT generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name = 'notes-by-id'",
        )
      ).rows[0];
    });
    expect(plans).toEqual({ generic_plans: 3, custom_plans: 0 });
  });
});

describe('bossStatement', () => {
  it('names a single statement after its text, the same name every time', () => {
    const a = bossStatement('SELECT id FROM pgboss.job WHERE name = $1', ['q']);
    const b = bossStatement('SELECT id FROM pgboss.job WHERE name = $1', ['r']);
    expect(a).toMatchObject({ text: 'SELECT id FROM pgboss.job WHERE name = $1', values: ['q'] });
    expect(typeof a === 'object' && a.name).toMatch(/^pgboss-[0-9a-f]{24}$/);
    expect(typeof b === 'object' && b.name).toBe(typeof a === 'object' && a.name);
    // The fetch carries its queue's name in its text and has no parameters: named too.
    expect(bossStatement("SELECT id FROM pgboss.job WHERE name = 'webhook-event'")).toMatchObject({
      values: [],
    });
  });

  it('leaves a multi-statement script as text (it cannot be prepared)', () => {
    const script = 'BEGIN; SET LOCAL lock_timeout = 30000; SELECT 1; COMMIT;';
    expect(bossStatement(script)).toBe(script);
    expect(bossStatement('SELECT $1::int; SELECT 2', [1])).toBe('SELECT $1::int; SELECT 2');
  });
});
