/**
 * Two replicas starting at once on an empty database (a rollout, or compose
 * starting two copies): both create the database, migrate, seed the built-in
 * roles and the superuser at the same moment. Neither may crash.
 */
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { bootstrapDatabase } from '../src/bootstrap.js';
import { createPrismaClient } from '../src/db/prisma.js';
import { newKeySet, testConfig } from './helpers.js';

const ROUNDS = 5;
const created: string[] = [];

async function dropDatabase(name: string) {
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

/** What server.ts does before it listens: bootstrap, then build the app. */
async function startReplica(databaseUrl: string) {
  const config = testConfig({
    DATABASE_URL: databaseUrl,
    ADMIN_LOGIN: 'boss',
    ADMIN_PASSWORD: 'boss password 1',
  });
  const db = createPrismaClient(config.databaseUrl);
  try {
    await bootstrapDatabase(config, db, () => {});
    const app = await buildApp(config, { db, keys: await newKeySet(), logging: false });
    await app.ready();
    await app.close();
  } finally {
    await db.$disconnect();
  }
}

describe('two auth replicas starting together on an empty database', () => {
  it(`both start, ${ROUNDS} times out of ${ROUNDS}, with one copy of each built-in role and of the superuser`, async () => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const url = new URL(inject('databaseUrl'));
      const name = `${url.pathname.slice(1)}_cs${round}`;
      url.pathname = `/${name}`;
      created.push(name);
      // Even rounds: the database exists but is empty (compose made it); odd: the replicas create it.
      if (round % 2 === 0) {
        const admin = new pg.Client({ connectionString: inject('databaseUrl') });
        await admin.connect();
        await admin.query(`CREATE DATABASE "${name}"`);
        await admin.end();
      }
      const results = await Promise.allSettled([startReplica(url.toString()), startReplica(url.toString())]);
      for (const result of results) {
        if (result.status === 'rejected')
          failures.push(`round ${round}: ${(result.reason as Error).message}`);
      }
      if (failures.length > 0) continue;
      const db = createPrismaClient(url.toString());
      try {
        expect((await db.role.findMany()).map((r) => r.name).sort()).toEqual([
          'admin',
          'downloads',
          'premium',
          'subscriber',
        ]);
        const boss = await db.user.findMany({ where: { login: 'boss' }, include: { roles: true } });
        expect(boss).toHaveLength(1);
        expect(boss[0]?.roles).toHaveLength(1);
      } finally {
        await db.$disconnect();
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
