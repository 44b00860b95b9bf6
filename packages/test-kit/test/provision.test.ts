import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { provisionDatabase, provisionRedis, TestInfrastructureMissing } from '../src/index.js';

describe('provisionDatabase', () => {
  it('creates a fresh, uniquely named database and drops it on release', async () => {
    const [a, b] = await Promise.all([provisionDatabase('kit'), provisionDatabase('kit')]);
    expect(a.name).not.toBe(b.name);
    const client = new pg.Client({ connectionString: a.url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(rows[0]!.n).toBe(0);
    await client.end();
    await a.release();
    await b.release();
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    const left = await admin.query('SELECT 1 FROM pg_database WHERE datname = ANY($1)', [[a.name, b.name]]);
    await admin.end();
    expect(left.rowCount).toBe(0);
  });

  it('without TEST_DATABASE_URL: a container when Docker answers, else an error naming both options at once', async () => {
    const started = Date.now();
    try {
      const db = await provisionDatabase('kit', {});
      await db.release();
    } catch (error) {
      expect(error).toBeInstanceOf(TestInfrastructureMissing);
      expect((error as Error).message).toMatch(/TEST_DATABASE_URL/);
      expect((error as Error).message).toMatch(/Docker/);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });
});

describe('provisionRedis', () => {
  it("gives each run its own prefix and deletes that prefix's keys on release", async () => {
    const { Redis } = await import('ioredis');
    const a = await provisionRedis('kit');
    const b = await provisionRedis('kit');
    expect(a.keyPrefix).not.toBe(b.keyPrefix);
    const client = new Redis(a.url);
    await client.set(`${a.keyPrefix}x`, '1');
    await client.set(`${b.keyPrefix}x`, '1');
    await a.release();
    expect(await client.exists(`${a.keyPrefix}x`)).toBe(0);
    expect(await client.exists(`${b.keyPrefix}x`)).toBe(1);
    await b.release();
    client.disconnect();
  });

  it('names TEST_REDIS_URL when the server does not answer', async () => {
    await expect(provisionRedis('kit', { TEST_REDIS_URL: 'redis://127.0.0.1:1' })).rejects.toThrow(
      /TEST_REDIS_URL/,
    );
  });
});
