/**
 * Issue 9: billing's Prisma client outlives Postgres backends terminated in
 * the middle of interactive transactions (a restart, a failover,
 * pg_terminate_backend). Before service-kit's pool (ADR 0026) one such
 * termination under a transaction load left the pool holding only dead
 * clients: every later query waited for ever.
 */
import { type ProvisionedDatabase, provisionDatabase } from '@tollgate/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '../src/db/prisma.js';

let database: ProvisionedDatabase;
let admin: pg.Client;
let db: Db;

beforeAll(async () => {
  database = await provisionDatabase('billing_pg_faults');
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  await admin.query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)');
  await admin.query('INSERT INTO counters VALUES (1, 0)');
  db = createPrismaClient(database.url, 3);
});
afterAll(async () => {
  await db?.$disconnect();
  await admin?.end();
  await database?.release();
});

const withinSeconds = <T>(seconds: number, work: Promise<T>) =>
  Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${seconds} s`)), seconds * 1000),
    ),
  ]);

describe('Postgres backends terminated mid-transaction', () => {
  it('cost failed transactions only: the pool keeps answering on fresh connections', async () => {
    let stop = false;
    let committed = 0;
    let failed = 0;
    // Twice as many transactions as connections, each holding its connection a few ms.
    const load = Array.from({ length: 6 }, async () => {
      while (!stop) {
        try {
          await db.$transaction(async (tx) => {
            await tx.$executeRaw`UPDATE counters SET n = n + 1 WHERE id = 1`;
            await tx.$queryRaw`SELECT pg_sleep(0.005)::text`;
          });
          committed++;
        } catch {
          failed++;
        }
      }
    });
    try {
      for (let round = 0; round < 4; round++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      stop = true;
      await withinSeconds(10, Promise.all(load));
    }
    expect(failed).toBeGreaterThan(0); // the terminations did cut transactions
    expect(committed).toBeGreaterThan(0);

    const before = (await admin.query<{ n: number }>('SELECT n FROM counters')).rows[0]!.n;
    // Each commit the client saw is counted (a commit whose answer was cut off may be too).
    expect(before).toBeGreaterThanOrEqual(committed);
    await withinSeconds(
      5,
      db.$transaction((tx) => tx.$executeRaw`UPDATE counters SET n = n + 1 WHERE id = 1`),
    );
    const rows = await withinSeconds(5, db.$queryRaw<{ n: number }[]>`SELECT n FROM counters`);
    expect(rows[0]!.n).toBe(before + 1);
  });
});
