import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { provisionDatabase } from '@tollgate/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, ensureDatabase } from '../src/index.js';

let database: Awaited<ReturnType<typeof provisionDatabase>>;
let dir: string;

beforeAll(async () => {
  database = await provisionDatabase('migrate');
  dir = await mkdtemp(path.join(tmpdir(), 'tollgate-migrations-'));
});
afterAll(async () => database.release());

async function addMigration(name: string, sql: string) {
  await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('applyMigrations', () => {
  it('applies pending migrations in name order, once, recording them in _prisma_migrations', async () => {
    await addMigration('001_a', 'CREATE TABLE a (id int);');
    await addMigration('002_b', 'CREATE TABLE b (id int); INSERT INTO a VALUES (1);');
    expect(await applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).toEqual({
      applied: ['001_a', '002_b'],
      alreadyApplied: 0,
    });
    expect(await applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).toEqual({
      applied: [],
      alreadyApplied: 2,
    });
    const rows = await query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(['001_a', '002_b']);
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies each migration once when several processes start together', async () => {
    await addMigration('003_c', 'CREATE TABLE c (id int);');
    const results = await Promise.all(
      [1, 2, 3].map(() => applyMigrations({ databaseUrl: database.url, migrationsDir: dir })),
    );
    expect(results.flatMap((r) => r.applied)).toEqual(['003_c']);
  });

  it('rolls a failing migration back whole and says which one failed', async () => {
    await addMigration('004_bad', 'CREATE TABLE d (id int); SELECT * FROM no_such_table;');
    await expect(applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).rejects.toThrow(
      /004_bad failed/,
    );
    const tables = await query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE tablename = 'd'",
    );
    expect(tables).toHaveLength(0);
    await writeFile(path.join(dir, '004_bad', 'migration.sql'), 'CREATE TABLE d (id int);');
    expect((await applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).applied).toEqual([
      '004_bad',
    ]);
  });

  it('refuses a migration edited after it was applied', async () => {
    await writeFile(path.join(dir, '001_a', 'migration.sql'), 'CREATE TABLE a (id bigint);');
    await expect(applyMigrations({ databaseUrl: database.url, migrationsDir: dir })).rejects.toThrow(
      /edited after it was applied/,
    );
  });
});

describe('ensureDatabase', () => {
  it('creates a missing database once', async () => {
    const url = new URL(database.url);
    url.pathname = `/${database.name}_extra`;
    try {
      expect(await ensureDatabase(url.toString())).toBe(true);
      expect(await ensureDatabase(url.toString())).toBe(false);
    } finally {
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${database.name}_extra"`);
      await admin.end();
    }
  });
});
