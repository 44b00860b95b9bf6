/**
 * Redis faults against a redis-server of this file's own (never the shared
 * one): restarted empty, killed, frozen, refusing writes. Auth and a
 * verifier built like billing's (@tollgate/auth-client) must never accept a
 * logged-out token again, and must answer fast instead of waiting on Redis.
 */
import { randomBytes } from 'node:crypto';
import {
  createFailFastRedis,
  createRedisRevocationStore,
  createTokenVerifier,
  redisReady,
  type TokenVerifier,
  withRevocationCache,
} from '@tollgate/auth-client';
import { startThrowawayRedis, type ThrowawayRedis } from '@tollgate/test-kit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Config } from '../src/config.js';
import type { SigningKeySet } from '../src/domain/tokens/signing-keys.js';
import {
  bearer,
  expectProblem,
  login,
  newKeySet,
  registerAndLogin,
  SERVICE_SECRET,
  testConfig,
} from './helpers.js';

let redis: ThrowawayRedis;
let keys: SigningKeySet;
const apps: FastifyInstance[] = [];
const clients: Redis[] = [];
/** A client of this file's Redis whose connection errors (expected here: it gets killed) are not reported. */
function track(client: Redis): Redis {
  client.on('error', () => {});
  clients.push(client);
  return client;
}
const prefix = `faults:${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  redis = await startThrowawayRedis();
  keys = await newKeySet();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const client of clients) client.disconnect();
  await redis?.stop();
});

function configFor(env: Record<string, string> = {}): Config {
  return testConfig({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, ...env });
}

async function startAuth(env: Record<string, string> = {}) {
  const app = await buildApp(configFor(env), { keys, logging: false });
  await app.ready();
  apps.push(app);
  return app;
}

/** A verifier as billing builds one: JWKS keys, Redis revocations, the 500 ms cache. */
function otherServiceVerifier(config: Config): TokenVerifier {
  const client = track(createFailFastRedis(redis.url, { keyPrefix: prefix }));
  return createTokenVerifier({
    keys: keys.resolver,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    revocation: withRevocationCache(createRedisRevocationStore(client), 500),
  });
}

const me = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });

async function verdict(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verifyAccessToken(token);
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

/** Polls `fn` until it returns true or `ms` pass; returns whether it did. */
async function eventually(fn: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await fn()) return true;
    await sleep(100);
  }
  return false;
}

describe('rebuilding the cache', () => {
  it('does not mark the cache complete when Redis is emptied again in the middle of the rebuild', async () => {
    const client = track(createFailFastRedis(redis.url, { keyPrefix: `${prefix}rebuild:` }));
    const admin = track(new Redis(redis.url));
    await redisReady(client);
    let flushed = false;
    // The real client, except that the first entry written is followed by a FLUSHALL (another data loss).
    const flaky = Object.assign(Object.create(client) as typeof client, {
      set: async (key: string, value: string, mode: 'EX', seconds: number) => {
        const result = await client.set(key, value, mode, seconds);
        if (key.startsWith('revoked-session:') && !flushed) {
          flushed = true;
          await admin.flushall();
        }
        return result;
      },
    });
    const store = createRedisRevocationStore(flaky);
    const entries = [
      { sessionId: 'a', ttlSeconds: 60 },
      { sessionId: 'b', ttlSeconds: 60 },
    ];
    expect(await store.restore(entries)).toBe(false);
    expect(await store.isComplete()).toBe(false);
    await expect(store.isSessionRevoked('c')).rejects.toThrow(/rebuilt/);
    expect(await store.restore(entries)).toBe(true);
    expect(await store.isSessionRevoked('a')).toBe(true);
    expect(await store.isSessionRevoked('c')).toBe(false);
  });
});

describe('a Redis restart that loses every key', () => {
  it('never brings a logged-out token back, in auth or through auth-client; service resumes once auth rebuilt the cache', async () => {
    const app = await startAuth();
    const verifier = otherServiceVerifier(configFor());
    const out = await registerAndLogin(app);
    const stillIn = await registerAndLogin(app);
    expect(
      (await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(out.tokens.access_token) }))
        .statusCode,
    ).toBe(204);
    expectProblem(await me(app, out.tokens.access_token), 401, 'token_revoked');
    expect(await verdict(verifier, out.tokens.access_token)).toBe('token_revoked');

    await redis.restartEmpty();

    // From the moment Redis came back empty until the cache is whole again:
    // auth answers from Postgres, the other service refuses rather than guess.
    const seen = { auth: new Set<number>(), client: new Set<string>() };
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      seen.auth.add((await me(app, out.tokens.access_token)).statusCode);
      seen.client.add(await verdict(verifier, out.tokens.access_token));
      await sleep(50);
    }
    expect([...seen.auth]).toEqual([401]);
    expect(seen.client.has('accepted')).toBe(false);

    // Rebuilt from Postgres: the revocation is back in Redis for every verifier.
    expect(
      await eventually(async () => (await verdict(verifier, out.tokens.access_token)) === 'token_revoked'),
    ).toBe(true);
    expect(await verdict(verifier, stillIn.tokens.access_token)).toBe('accepted');
    expect((await me(app, stillIn.tokens.access_token)).statusCode).toBe(200);
  });
});

describe('Redis down', () => {
  it('auth answers at once: tokens checked against Postgres, service tokens issued, logins 503 with Retry-After, ready but degraded', async () => {
    const app = await startAuth();
    const verifier = otherServiceVerifier(configFor());
    const { user, tokens } = await registerAndLogin(app);
    const leaving = await registerAndLogin(app);
    await redis.kill();
    try {
      const read = await timed(() => me(app, tokens.access_token));
      expect(read.value.statusCode).toBe(200);
      expect(read.ms).toBeLessThan(500);

      // Logging out works: the session ends in Postgres, which auth now reads.
      const logout = await timed(() =>
        app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(leaving.tokens.access_token) }),
      );
      expect(logout.value.statusCode).toBe(204);
      expect(logout.ms).toBeLessThan(1_000);
      expectProblem(await me(app, leaving.tokens.access_token), 401, 'token_revoked');

      const token = await timed(() =>
        app.inject({
          method: 'POST',
          url: '/v1/auth/token',
          payload: { grant_type: 'client_credentials', client_id: 'billing', client_secret: SERVICE_SECRET },
        }),
      );
      expect(token.value.statusCode).toBe(200);
      expect(token.ms).toBeLessThan(1_000);

      const refused = await timed(() => login(app, user.login));
      const body = expectProblem(refused.value, 503, 'temporarily_unavailable');
      expect(refused.value.headers['retry-after']).toBe('1');
      expect(body).toMatchObject({ status: 503 });
      expect(refused.ms).toBeLessThan(1_000);

      const elsewhere = await timed(() => verdict(verifier, tokens.access_token));
      expect(elsewhere.value).toBe('revocation_unavailable');
      expect(elsewhere.ms).toBeLessThan(500);

      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'ok' }, redis: { status: 'fail' } },
      });
    } finally {
      await redis.start();
    }
    // The logout made during the outage reaches the other service once Redis is back.
    expect(
      await eventually(
        async () => (await verdict(verifier, leaving.tokens.access_token)) === 'token_revoked',
      ),
    ).toBe(true);
    expect(await verdict(verifier, tokens.access_token)).toBe('accepted');
  });

  it('rate limits keep counting, in this process, instead of switching off', async () => {
    const app = await startAuth({ AUTH_RATE_LIMIT_PER_MINUTE: '3' });
    await redis.kill();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await app.inject({
          method: 'POST',
          url: '/v1/auth/refresh-token',
          payload: { refresh_token: 'x'.repeat(43) },
          remoteAddress: '198.51.100.7',
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await redis.start();
    }
  });

  it('a Redis that stops answering (frozen) costs requests no more than the command timeout, then nothing', async () => {
    const app = await startAuth();
    const { tokens } = await registerAndLogin(app);
    redis.freeze();
    try {
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        const response = await me(app, `${tokens.access_token}`);
        expect(response.statusCode).toBe(200);
        await sleep(30); // past the 500 ms "not revoked" memory, so Redis is asked again
      }
      // 20 requests over ~0.6 s of sleeps: at most a few command timeouts before the breaker opens.
      expect(performance.now() - started).toBeLessThan(600 + 6 * 250 + 500);
      const refused = await timed(() => login(app, 'nobody-in-particular'));
      expect(refused.value.statusCode).toBe(503);
      expect(refused.ms).toBeLessThan(1_000);
    } finally {
      redis.thaw();
    }
  });
});

describe('a logout whose Redis write fails', () => {
  it('still answers 204, is never accepted meanwhile, and reaches every verifier once Redis takes writes again', async () => {
    const app = await startAuth();
    const verifier = otherServiceVerifier(configFor());
    const { tokens } = await registerAndLogin(app);
    const admin = track(new Redis(redis.url));
    // Redis out of memory: it still answers reads, and refuses every write.
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      const logout = await app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: bearer(tokens.access_token),
      });
      expect(logout.statusCode).toBe(204);
      expectProblem(await me(app, tokens.access_token), 401, 'token_revoked');
      expect(await verdict(verifier, tokens.access_token)).not.toBe('accepted');
      await sleep(1_200); // a keeper round while writes still fail
      expect(await verdict(verifier, tokens.access_token)).not.toBe('accepted');
      expectProblem(await me(app, tokens.access_token), 401, 'token_revoked');
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect(
      await eventually(async () => (await verdict(verifier, tokens.access_token)) === 'token_revoked'),
    ).toBe(true);
    expect(await admin.exists(`${prefix}revoked-session:${await decodeSid(tokens.access_token)}`)).toBe(1);
  });
});

async function decodeSid(token: string): Promise<string> {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    sid: string;
  };
  return payload.sid;
}
