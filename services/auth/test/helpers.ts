import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { inject } from 'vitest';
import { buildApp } from '../src/app.js';
import { ensureSuperuser } from '../src/bootstrap.js';
import { type Config, loadConfig } from '../src/config.js';
import { createPrismaClient } from '../src/db/prisma.js';
import { createRolesService } from '../src/domain/roles/roles.service.js';
import { generatePrivateJwk, keySetFromJwks, type SigningKeySet } from '../src/domain/tokens/signing-keys.js';

export const SERVICE_SECRET = 'billing-test-secret-0123456789';

/** Config for tests: the run's database and Redis, and generous rate limits unless a test sets its own. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: inject('redisKeyPrefix'),
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    ACCOUNT_RATE_LIMIT_PER_HOUR: '100000',
    SERVICE_CLIENTS: `billing:${SERVICE_SECRET}:roles:write,reporting:reporting-secret-0123456789:`,
    ADMIN_LOGIN: 'root',
    ADMIN_PASSWORD: 'root-password-for-tests',
    ...env,
  });
}

export async function newKeySet(): Promise<SigningKeySet> {
  return keySetFromJwks([await generatePrivateJwk()]);
}

export interface TestContext {
  app: FastifyInstance;
  config: Config;
  keys: SigningKeySet;
  close(): Promise<void>;
}

export async function startApp(env: Record<string, string> = {}, keys?: SigningKeySet): Promise<TestContext> {
  const config = testConfig(env);
  const keySet = keys ?? (await newKeySet());
  const app = await buildApp(config, { keys: keySet, logging: false });
  await app.ready();
  return { app, config, keys: keySet, close: () => app.close() };
}

export function uniqueLogin(prefix = 'user'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export const PASSWORD = 'plausible tangerine 42';

/** Registers a user (from `remoteAddress`, for tests whose rate limits are low). */
export async function register(
  app: FastifyInstance,
  login = uniqueLogin(),
  password = PASSWORD,
  remoteAddress?: string,
) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: { login, password, email: `${login}@example.com` },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.body}`);
  return { ...(response.json() as { id: string; login: string; email: string }), password };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export async function login(
  app: FastifyInstance,
  loginName: string,
  password = PASSWORD,
  remoteAddress?: string,
) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { login: loginName, password },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
}

export async function registerAndLogin(app: FastifyInstance, remoteAddress?: string) {
  const user = await register(app, uniqueLogin(), PASSWORD, remoteAddress);
  const response = await login(app, user.login);
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  return { user, tokens: response.json() as Tokens };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Creates (once per run) an admin user and logs in as them. */
export async function adminTokens(app: FastifyInstance, config: Config): Promise<Tokens> {
  const db = createPrismaClient(config.databaseUrl);
  try {
    await createRolesService(db).seedBuiltIns();
    await ensureSuperuser(db, config.admin, () => {});
  } finally {
    await db.$disconnect();
  }
  const response = await login(app, config.admin.login, config.admin.password);
  if (response.statusCode !== 200) throw new Error(`admin login failed: ${response.body}`);
  return response.json() as Tokens;
}

export async function serviceToken(app: FastifyInstance, clientId = 'billing', secret = SERVICE_SECRET) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
  });
  if (response.statusCode !== 200) throw new Error(`token failed: ${response.body}`);
  return (response.json() as { access_token: string }).access_token;
}

export function expectProblem(response: LightMyRequestResponse, status: number, code: string) {
  const body = response.json() as { code?: string; status?: number };
  if (response.statusCode !== status || body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${response.statusCode} ${response.body}`);
  }
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${response.headers['content-type']}`);
  }
  return body;
}
