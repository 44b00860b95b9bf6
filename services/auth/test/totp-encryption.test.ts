/**
 * TOTP secrets at rest with TOTP_ENCRYPTION_KEY: a new secret is stored
 * sealed (AES-256-GCM) and codes still check; secrets stored in clear before
 * the key was set are sealed at the next start and keep working. A database
 * of this file's own: the start-up sealing touches every row.
 */
import { randomBytes } from 'node:crypto';
import { type ProvisionedDatabase, provisionDatabase } from '@tollgate/test-kit';
import { generate } from 'otplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateAuthDatabase } from '../src/db/migrate.js';
import { createPrismaClient, type Db } from '../src/db/prisma.js';
import { bearer, expectProblem, login, registerAndLogin, startApp, type TestContext } from './helpers.js';

const KEY = randomBytes(32).toString('base64');
let database: ProvisionedDatabase;
let db: Db;
const apps: TestContext[] = [];

beforeAll(async () => {
  database = await provisionDatabase('auth_totp_key');
  await migrateAuthDatabase(database.url);
  db = createPrismaClient(database.url);
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await db?.$disconnect();
  await database?.release();
});

async function app(env: Record<string, string> = {}) {
  const ctx = await startApp({ DATABASE_URL: database.url, ...env });
  apps.push(ctx);
  return ctx;
}

async function totpOn(ctx: TestContext) {
  const { user, tokens } = await registerAndLogin(ctx.app);
  const post = (url: string, payload: object) =>
    ctx.app.inject({ method: 'POST', url, payload, headers: bearer(tokens.access_token) });
  const { secret } = (await post('/v1/auth/mfa/totp/setup', {})).json() as { secret: string };
  const confirmed = await post('/v1/auth/mfa/totp/confirm', { code: await generate({ secret }) });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return { user, secret };
}

async function loginWithCode(ctx: TestContext, loginName: string, secret: string) {
  const { mfa_ticket } = expectProblem(await login(ctx.app, loginName), 401, 'mfa_required') as {
    mfa_ticket: string;
  };
  const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
  return ctx.app.inject({ method: 'POST', url: '/v1/auth/login/mfa', payload: { ticket: mfa_ticket, code } });
}

it('stores a new secret sealed, and its codes still work', async () => {
  const keyed = await app({ TOTP_ENCRYPTION_KEY: KEY });
  const { user, secret } = await totpOn(keyed);
  const row = await db.totpFactor.findUniqueOrThrow({ where: { userId: user.id } });
  expect(row.secret.startsWith('v1.')).toBe(true);
  expect(row.secret).not.toContain(secret);
  expect((await loginWithCode(keyed, user.login, secret)).statusCode).toBe(200);
});

it('seals the secrets stored in clear at the next start with a key, and they keep working', async () => {
  const plain = await app();
  const { user, secret } = await totpOn(plain);
  expect((await db.totpFactor.findUniqueOrThrow({ where: { userId: user.id } })).secret).toBe(secret);

  const keyed = await app({ TOTP_ENCRYPTION_KEY: KEY });
  const row = await db.totpFactor.findUniqueOrThrow({ where: { userId: user.id } });
  expect(row.secret.startsWith('v1.')).toBe(true);
  expect(row.secret).not.toContain(secret);
  expect((await loginWithCode(keyed, user.login, secret)).statusCode).toBe(200);
});
