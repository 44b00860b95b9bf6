import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bootstrapDatabase, ensureSuperuser, StartupRefused } from '../src/bootstrap.js';
import type { Config } from '../src/config.js';
import { createPrismaClient, type Db } from '../src/db/prisma.js';
import { generatePrivateJwk } from '../src/domain/tokens/signing-keys.js';
import { testConfig } from './helpers.js';

const STRONG = 'a long production password';
const created: string[] = [];

afterAll(async () => {
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

/** A database first started in development: superuser admin/admin. */
async function devDatabase(suffix: string): Promise<{ config: Config; db: Db }> {
  const url = new URL(inject('databaseUrl'));
  const name = `${url.pathname.slice(1)}_${suffix}`;
  url.pathname = `/${name}`;
  created.push(name);
  const config = testConfig({ DATABASE_URL: url.toString(), ADMIN_LOGIN: 'admin', ADMIN_PASSWORD: 'admin' });
  const db = createPrismaClient(config.databaseUrl);
  await bootstrapDatabase(config, db, () => {});
  return { config, db };
}

function production(
  config: Config,
  admin: { login: string; password: string; passwordGiven: boolean },
): Config {
  return {
    ...config,
    env: 'production',
    admin: { ...config.admin, email: `${admin.login}@example.org`, ...admin },
  };
}

async function passwordOf(db: Db, login: string) {
  const { passwordHash } = await db.user.findUniqueOrThrow({ where: { login } });
  if (!passwordHash) throw new Error(`${login} has no password`);
  return passwordHash;
}

describe('production start with a superuser left on a development password', () => {
  it('rotates the configured superuser to ADMIN_PASSWORD and ends its sessions', async () => {
    const { config, db } = await devDatabase('rotate');
    try {
      const user = await db.user.findUniqueOrThrow({ where: { login: 'admin' } });
      await db.session.create({
        data: { id: crypto.randomUUID(), userId: user.id, expiresAt: new Date(Date.now() + 3_600_000) },
      });
      const messages: string[] = [];
      await bootstrapDatabase(
        production(config, { login: 'admin', password: STRONG, passwordGiven: true }),
        db,
        (m) => messages.push(m),
      );
      expect(messages.join('\n')).toMatch(/superuser "admin" had a development default password: rotated/);
      const hash = await passwordOf(db, 'admin');
      expect(await argon2.verify(hash, 'admin')).toBe(false);
      expect(await argon2.verify(hash, STRONG)).toBe(true);
      expect(await db.session.count({ where: { userId: user.id, endedAt: null } })).toBe(0);
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses to start while another superuser keeps it, until create-superuser --reset', async () => {
    const { config, db } = await devDatabase('refuse');
    try {
      const prod = production(config, { login: 'ops', password: STRONG, passwordGiven: true });
      const start = bootstrapDatabase(prod, db, () => {});
      await expect(start).rejects.toBeInstanceOf(StartupRefused);
      await expect(start).rejects.toThrow(
        /superuser "admin" still has a development default password.*--reset/,
      );
      expect(await argon2.verify(await passwordOf(db, 'admin'), 'admin')).toBe(true);

      // What `create-superuser --login admin --reset` does.
      await ensureSuperuser(
        db,
        { login: 'admin', password: 'the operator chose this', email: 'a@b.c' },
        () => {},
        {
          reset: true,
        },
      );
      await expect(bootstrapDatabase(prod, db, () => {})).resolves.toBeUndefined();
    } finally {
      await db.$disconnect();
    }
  });

  it('the real server exits non-zero with a clear message', async () => {
    const { config, db } = await devDatabase('server');
    await db.$disconnect();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: new URL('..', import.meta.url),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        DATABASE_URL: config.databaseUrl,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: inject('redisKeyPrefix'),
        PORT: '0',
        LOG_LEVEL: 'warn',
        JWT_SIGNING_KEYS: JSON.stringify([await generatePrivateJwk()]),
        TOTP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        SERVICE_CLIENTS: 'billing:0123456789abcdef0123456789abcdef:roles:write',
        ADMIN_LOGIN: 'ops',
        ADMIN_EMAIL: 'ops@example.org',
        ADMIN_PASSWORD: STRONG,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('refusing to start in production: superuser "admin"');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
