import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { bootstrapDatabase } from '../src/bootstrap.js';
import { createPrismaClient } from '../src/db/prisma.js';
import { testConfig } from './helpers.js';

describe('bootstrapDatabase (what npm start does before listening)', () => {
  it('creates the database if missing, migrates, seeds the roles and the superuser; a second start changes nothing', async () => {
    const url = new URL(inject('databaseUrl'));
    const name = `${url.pathname.slice(1)}_boot`;
    url.pathname = `/${name}`;
    const config = testConfig({
      DATABASE_URL: url.toString(),
      ADMIN_LOGIN: 'boss',
      ADMIN_PASSWORD: 'first password here',
    });
    const db = createPrismaClient(config.databaseUrl);
    const messages: string[] = [];
    try {
      await bootstrapDatabase(config, db, (m) => messages.push(m));
      expect(messages).toEqual(expect.arrayContaining(['created the database', 'created superuser "boss"']));
      const roles = await db.role.findMany({ orderBy: { name: 'asc' } });
      expect(roles.map((r) => r.name)).toEqual(['admin', 'downloads', 'premium', 'subscriber']);
      const boss = await db.user.findUniqueOrThrow({
        where: { login: 'boss' },
        include: { roles: { include: { role: true } } },
      });
      expect(boss.roles.map((g) => [g.role.name, g.source])).toEqual([['admin', 'admin']]);

      messages.length = 0;
      await bootstrapDatabase(
        { ...config, admin: { ...config.admin, password: 'another password' } },
        db,
        (m) => messages.push(m),
      );
      expect(messages).toEqual(['database schema is up to date']);
      const again = await db.user.findUniqueOrThrow({ where: { login: 'boss' } });
      expect(again.passwordHash).toBe(boss.passwordHash);
    } finally {
      await db.$disconnect();
      const admin = new pg.Client({ connectionString: inject('databaseUrl') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });
});
