/**
 * Billing with Redis gone (a redis-server of this file's own, never the
 * shared one): webhooks, role syncs and readiness carry on; authenticated
 * requests get a fast 503 problem+json with Retry-After instead of waiting
 * seconds for a 500; and after Redis comes back empty a token logged out in
 * the meantime stays refused.
 */
import { randomBytes } from 'node:crypto';
import { startThrowawayRedis, type ThrowawayRedis } from '@tollgate/test-kit';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, eventually, newUser, rolesInAuth, type Stack, sleep, startStack } from './stack.js';

let redis: ThrowawayRedis;
let stack: Stack;

beforeAll(async () => {
  redis = await startThrowawayRedis();
  stack = await startStack({
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `outage:${randomBytes(4).toString('hex')}:`,
  });
});
afterAll(async () => {
  await stack?.close();
  await redis?.stop();
});

const subscription = (token: string) =>
  stack.app.inject({
    method: 'GET',
    url: '/api/v1/subscription',
    headers: { authorization: `Bearer ${token}` },
  });

function signedEvent() {
  const payload = JSON.stringify({
    id: `evt_outage_${randomBytes(6).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
    data: {
      object: { id: `cus_outage_${randomBytes(4).toString('hex')}`, object: 'customer', metadata: {} },
    },
  });
  const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
    payload,
    secret: stack.config.stripe.webhookSecret,
  });
  return { payload, signature };
}

describe('billing while Redis is down', () => {
  it('takes webhooks, syncs roles and stays ready; token checks answer 503 at once; a logout made meanwhile holds after Redis returns empty', async () => {
    const user = await newUser(stack);
    const leaving = await newUser(stack);
    expect((await subscription(user.token)).statusCode).not.toBe(503);

    await redis.kill();
    await sleep(600); // past the 500 ms for which a "not revoked" answer is reused
    try {
      const started = performance.now();
      const refused = await subscription(user.token);
      expect(performance.now() - started).toBeLessThan(500);
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toMatchObject({ code: 'revocation_unavailable', status: 503 });

      const ready = await stack.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'ok' }, queue: { status: 'ok' }, redis: { status: 'fail' } },
      });

      const { payload, signature } = signedEvent();
      const webhook = await stack.app.inject({
        method: 'POST',
        url: '/api/v1/webhook',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload,
      });
      expect(webhook.statusCode).toBeLessThan(300);

      // A role sync: client credentials and the internal role API need no Redis.
      await stack.app.billing.authRoles.grant(user.id, 'premium', 'subscription:sub_outage', null);
      expect(await rolesInAuth(stack, user)).toContain('premium');

      const logout = await stack.auth.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: bearer(leaving),
      });
      expect(logout.statusCode).toBe(204);
    } finally {
      await redis.start();
    }
    // Redis came back with nothing in it; auth rebuilds it from Postgres.
    await eventually(async () => (await subscription(user.token)).statusCode !== 503, 5_000);
    const after = await subscription(leaving.token);
    expect(after.json()).toMatchObject({ code: 'token_revoked' });
    expect(after.statusCode).toBe(401);
  });
});
