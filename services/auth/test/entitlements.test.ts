/**
 * Entitlements pushed by billing, in access tokens, and refused after a
 * shrink: by auth itself and by a resource service's verifier reading the
 * same Redis (as billing does), until the client refreshes.
 */
import { randomBytes } from 'node:crypto';
import {
  createRedisRevocationStore,
  createTokenVerifier,
  REVOCATIONS_COMPLETE_KEY,
  withRevocationCache,
} from '@tollgate/auth-client';
import type { AuthHistoryEntry } from '@tollgate/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  adminTokens,
  bearer,
  expectProblem,
  registerAndLogin,
  serviceToken,
  startApp,
  type TestContext,
} from './helpers.js';

let ctx: TestContext;
let baseUrl: string;
let redis: Redis;
let service: string;
beforeAll(async () => {
  ctx = await startApp();
  baseUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  redis = new Redis(ctx.config.redisUrl, { keyPrefix: ctx.config.redisKeyPrefix });
  service = await serviceToken(ctx.app);
});
afterAll(async () => {
  redis.disconnect();
  await ctx.close();
});

const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());

function push(userId: string, body: object, token = service) {
  return ctx.app.inject({
    method: 'PUT',
    url: `/internal/v1/users/${userId}/entitlements`,
    headers: bearer(token),
    payload: body,
  });
}

const me = (accessToken: string) =>
  ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(accessToken) });

async function refresh(refreshToken: string) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/v1/auth/refresh-token',
    payload: { refresh_token: refreshToken },
  });
  expect(response.statusCode).toBe(200);
  return response.json() as { access_token: string; refresh_token: string };
}

describe('entitlements in access tokens', () => {
  it('a token carries ent {v, f}; growth keeps old tokens; a shrink refuses them everywhere until refresh', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    expect(decode(tokens.access_token).ent).toEqual({ v: 0, f: {} });

    const cause = { type: 'stripe_event', event_id: 'evt_1', event_type: 'checkout.session.completed' };
    expect(
      (await push(user.id, { version: 1, features: { hd: true, projects: 10 }, cause })).statusCode,
    ).toBe(204);
    // Growth: the old token is still good; the next one carries more.
    expect((await me(tokens.access_token)).statusCode).toBe(200);
    const grown = await refresh(tokens.refresh_token);
    expect(decode(grown.access_token).ent).toEqual({ v: 1, f: { hd: true, projects: 10 } });

    const resourceService = createTokenVerifier({
      jwksUrl: `${baseUrl}/.well-known/jwks.json`,
      issuer: ctx.config.jwt.issuer,
      audience: ctx.config.jwt.audience,
      revocation: withRevocationCache(createRedisRevocationStore(redis), 500),
    });
    await expect(resourceService.verifyAccessToken(grown.access_token)).resolves.toMatchObject({
      sub: user.id,
    });

    // Shrink (a downgrade): projects 10 -> 3, hd gone.
    const downgrade = { type: 'stripe_event', event_id: 'evt_2', subscription_id: 'sub_1' };
    expect(
      (await push(user.id, { version: 2, features: { projects: 3 }, cause: downgrade })).statusCode,
    ).toBe(204);
    expectProblem(await me(grown.access_token), 401, 'entitlements_changed');
    expectProblem(await me(tokens.access_token), 401, 'entitlements_changed');
    // The resource service's cache may hold the old answer for up to its 500 ms.
    await new Promise((r) => setTimeout(r, 600));
    await expect(resourceService.verifyAccessToken(grown.access_token)).rejects.toMatchObject({
      code: 'entitlements_changed',
    });

    const shrunk = await refresh(grown.refresh_token);
    expect(decode(shrunk.access_token).ent).toEqual({ v: 2, f: { projects: 3 } });
    expect((await me(shrunk.access_token)).statusCode).toBe(200);
    await expect(resourceService.verifyAccessToken(shrunk.access_token)).resolves.toBeDefined();

    // A late, older push changes nothing (204 all the same, so billing's job is done).
    expect(
      (await push(user.id, { version: 1, features: { hd: true, projects: 10 }, cause })).statusCode,
    ).toBe(204);
    expect(decode((await refresh(shrunk.refresh_token)).access_token).ent.v).toBe(2);
  });

  it('refuses bodies outside the contract, unknown users, and services without the scope', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const cause = { type: 'sync' };
    expectProblem(
      await push(user.id, { version: 1, features: { hd: 'yes' }, cause }),
      400,
      'validation_failed',
    );
    expectProblem(
      await push(user.id, { version: 1, features: { 'Not A Key': true }, cause }),
      400,
      'validation_failed',
    );
    expectProblem(await push(user.id, { version: 1, features: {} }), 400, 'validation_failed');
    expectProblem(
      await push('00000000-0000-4000-8000-000000000000', { version: 1, features: {}, cause }),
      404,
      'user_not_found',
    );
    const reporting = await serviceToken(ctx.app, 'reporting', 'reporting-secret-0123456789');
    expectProblem(
      await push(user.id, { version: 1, features: {}, cause }, reporting),
      403,
      'insufficient_scope',
    );
  });
});

describe('auth’s side of a user’s history', () => {
  it('records pushes, billing’s grants and revokes with their cause, and admins’ grants with the admin', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const admin = await adminTokens(ctx.app, ctx.config);
    const adminId = decode(admin.access_token).sub;
    const cause = {
      type: 'stripe_event',
      event_id: 'evt_9',
      event_type: 'invoice.paid',
      subscription_id: 'sub_9',
    };

    await push(user.id, { version: 5, features: { hd: true }, cause });
    const grant = await ctx.app.inject({
      method: 'PUT',
      url: `/internal/v1/users/${user.id}/roles/premium`,
      headers: bearer(service),
      payload: { source: 'subscription:sub_9', cause },
    });
    expect(grant.statusCode).toBe(201);
    // A retry that changes nothing adds no entry.
    await ctx.app.inject({
      method: 'PUT',
      url: `/internal/v1/users/${user.id}/roles/premium`,
      headers: bearer(service),
      payload: { source: 'subscription:sub_9', cause },
    });
    const refund = { type: 'refund', event_id: 'evt_10', detail: 'charge refunded' };
    await ctx.app.inject({
      method: 'DELETE',
      url: `/internal/v1/users/${user.id}/roles/premium`,
      headers: bearer(service),
      payload: { source: 'subscription:sub_9', cause: refund },
    });
    const byAdmin = await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: bearer(admin.access_token),
      payload: { login: user.login, role: 'subscriber' },
    });
    expect(byAdmin.statusCode).toBe(200);

    const history = await ctx.app.inject({
      method: 'GET',
      url: `/internal/v1/users/${user.id}/history?limit=10`,
      headers: bearer(service),
    });
    expect(history.statusCode).toBe(200);
    const entries = (history.json() as { data: AuthHistoryEntry[] }).data;
    expect(entries.map((e) => [e.action, e.role, e.source, e.actor, e.cause?.type])).toEqual([
      ['role_granted', 'subscriber', 'admin', adminId, 'admin'],
      ['role_revoked', 'premium', 'subscription:sub_9', 'billing', 'refund'],
      ['role_granted', 'premium', 'subscription:sub_9', 'billing', 'stripe_event'],
      ['entitlements_changed', null, null, 'billing', 'stripe_event'],
    ]);
    expect(entries[3]?.details).toMatchObject({
      version: 5,
      previous_version: 0,
      after: { hd: true },
      shrank: false,
    });
    expect(entries[2]?.cause).toEqual(cause);

    const anonymous = await ctx.app.inject({ method: 'GET', url: `/internal/v1/users/${user.id}/history` });
    expectProblem(anonymous, 401, 'authentication_required');
  });
});

describe('entitlement floors when Redis loses its data', () => {
  it('fail closed elsewhere, fall back to the database in auth, and come back with the rebuild', async () => {
    // A key prefix of its own: this test empties "its" Redis.
    const prefix = `${inject('redisKeyPrefix')}floors-${randomBytes(3).toString('hex')}:`;
    const own = await startApp({ REDIS_KEY_PREFIX: prefix, REVOCATION_REPAIR_INTERVAL_MS: '100' });
    const ownRedis = new Redis(own.config.redisUrl, { keyPrefix: prefix });
    try {
      const ownUrl = await own.app.listen({ host: '127.0.0.1', port: 0 });
      const ownService = await serviceToken(own.app);
      const { user, tokens } = await registerAndLogin(own.app);
      const cause = { type: 'dunning', detail: 'restricted' };
      const put = (version: number, features: object) =>
        own.app.inject({
          method: 'PUT',
          url: `/internal/v1/users/${user.id}/entitlements`,
          headers: bearer(ownService),
          payload: { version, features, cause },
        });
      expect((await put(1, { hd: true })).statusCode).toBe(204);
      const before = (
        await own.app.inject({
          method: 'POST',
          url: '/v1/auth/refresh-token',
          payload: { refresh_token: tokens.refresh_token },
        })
      ).json() as { access_token: string };
      expect((await put(2, {})).statusCode).toBe(204);
      expect(await ownRedis.get(`entitlements-floor:${user.id}`)).toBe('2');

      // Redis restarted empty.
      await ownRedis.del(`entitlements-floor:${user.id}`, REVOCATIONS_COMPLETE_KEY);
      const resource = createTokenVerifier({
        jwksUrl: `${ownUrl}/.well-known/jwks.json`,
        issuer: own.config.jwt.issuer,
        audience: own.config.jwt.audience,
        revocation: createRedisRevocationStore(ownRedis),
      });
      const meanwhile = await resource.verifyAccessToken(before.access_token).catch((e: unknown) => e);
      // Before the keeper's next round: "cannot tell" (never an acceptance); after it: refused again.
      expect(['revocation_unavailable', 'entitlements_changed']).toContain(
        (meanwhile as { code: string }).code,
      );
      expectProblem(
        await own.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(before.access_token) }),
        401,
        'entitlements_changed',
      );
      for (let i = 0; i < 50 && (await ownRedis.get(REVOCATIONS_COMPLETE_KEY)) === null; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await ownRedis.get(`entitlements-floor:${user.id}`)).toBe('2');
      await expect(resource.verifyAccessToken(before.access_token)).rejects.toMatchObject({
        code: 'entitlements_changed',
      });
    } finally {
      ownRedis.disconnect();
      await own.close();
    }
  });
});
