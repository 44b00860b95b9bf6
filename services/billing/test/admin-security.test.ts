/**
 * The admin panel's defences, through billing's real HTTP surface (inject)
 * on real Postgres and Redis: actions only by the panel's own POST (origin +
 * the session's CSRF token), built-in writes refused, the session shared by
 * replicas, and the login's rate limit and lockout.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import {
  BASIC_MONTHLY,
  eventually,
  newUser,
  rolesInAuth,
  type Stack,
  startStack,
  subscribe,
  type TestUser,
} from './stack.js';

const ORIGIN = 'http://localhost';
let stack: Stack;
let replica: FastifyInstance;
let user: TestUser;
let subscriptionId: string;

interface Admin {
  cookie: string;
  /** Absent where the panel hands out none. */
  csrfToken?: string;
}

/** Logs in from `ip` (billing trusts loopback's X-Forwarded-For, as behind the gateway). */
async function login(app: FastifyInstance, password = 'admin', ip = '203.0.113.1') {
  return app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: ORIGIN,
      'x-forwarded-for': ip,
    },
    payload: new URLSearchParams({ email: 'admin', password }).toString(),
  });
}

async function signIn(app: FastifyInstance, ip?: string): Promise<Admin> {
  const response = await login(app, 'admin', ip);
  expect(response.statusCode).toBe(302);
  const cookie = String(response.headers['set-cookie']).split(';')[0]!;
  // The panel's page hands the session's token to its scripts (window.REDUX_STATE.session).
  const page = await app.inject({ method: 'GET', url: '/admin', headers: { cookie } });
  return { cookie, csrfToken: /"csrfToken":"([^"]+)"/.exec(page.body)?.[1] };
}

async function stripeState() {
  const subscription = await stack.stripe.subscriptions.retrieve(subscriptionId);
  const refunds = await stack.stripe.refunds.list({ limit: 10 });
  return { status: subscription.status, refunds: refunds.data.length };
}

beforeAll(async () => {
  stack = await startStack({ LOCKOUT_THRESHOLD: '3', ADMIN_LOGIN_RATE_LIMIT_PER_MINUTE: '20' });
  // A second billing instance on the same database and Redis: another replica behind the gateway.
  replica = await buildApp(stack.config, { logging: false });
  user = await newUser(stack);
  await subscribe(stack, user, BASIC_MONTHLY);
  await stack.emu.waitForWebhooks();
  await eventually(async () => (await rolesInAuth(stack, user)).includes('subscriber'));
  subscriptionId = (await stack.app.billing.db.subscription.findFirstOrThrow({ where: { userId: user.id } }))
    .id;
});
afterAll(async () => {
  await replica?.close();
  await stack?.close();
});

describe('admin actions only by the panel’s own POST (CSRF)', () => {
  it('the session cookie is SameSite=Strict, HttpOnly and scoped to /admin', async () => {
    const response = await login(stack.app);
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/^tollgate_admin=/);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Path=\/admin/i);
  });

  it('a GET of cancelNow or refundLatest (a link, an image) changes nothing', async () => {
    const admin = await signIn(stack.app);
    const before = await stripeState();
    for (const action of ['cancelNow', 'refundLatest']) {
      const response = await stack.app.inject({
        method: 'GET',
        url: `/admin/api/resources/Subscription/records/${subscriptionId}/${action}`,
        headers: { cookie: admin.cookie },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().notice).toBeUndefined();
    }
    expect(await stripeState()).toEqual(before);
    expect(before.status).toBe('active');
  });

  it('a POST from another origin, with no origin, or without the session’s token is refused', async () => {
    const admin = await signIn(stack.app);
    const other = await signIn(stack.app);
    expect(admin.csrfToken).toBeTruthy();
    expect(other.csrfToken).not.toBe(admin.csrfToken);
    const token = admin.csrfToken!;
    const url = `/admin/api/resources/Subscription/records/${subscriptionId}/cancelNow`;
    const attempts: { headers: Record<string, string>; code: string }[] = [
      {
        headers: { origin: 'http://evil.example', 'x-csrf-token': token },
        code: 'cross_origin_rejected',
      },
      { headers: { origin: 'null', 'x-csrf-token': token }, code: 'cross_origin_rejected' },
      { headers: { 'x-csrf-token': token }, code: 'cross_origin_rejected' },
      {
        headers: { referer: 'http://evil.example/page', 'x-csrf-token': token },
        code: 'cross_origin_rejected',
      },
      { headers: { origin: ORIGIN }, code: 'csrf_token_invalid' },
      { headers: { origin: ORIGIN, 'x-csrf-token': 'forged' }, code: 'csrf_token_invalid' },
      { headers: { origin: ORIGIN, 'x-csrf-token': other.csrfToken! }, code: 'csrf_token_invalid' },
    ];
    for (const attempt of attempts) {
      const response = await stack.app.inject({
        method: 'POST',
        url,
        headers: { cookie: admin.cookie, 'content-type': 'application/json', ...attempt.headers },
        payload: {},
      });
      expect(response.statusCode, JSON.stringify(attempt.headers)).toBe(403);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.json().code).toBe(attempt.code);
    }
    expect((await stripeState()).status).toBe('active');
  });

  it('bulkDelete, delete, edit and new are refused on the read-only resources, not only hidden', async () => {
    const admin = await signIn(stack.app);
    const headers = {
      cookie: admin.cookie,
      origin: ORIGIN,
      'x-csrf-token': admin.csrfToken ?? '',
      'content-type': 'application/json',
    };
    const customer = await stack.app.billing.db.customer.findFirstOrThrow({ where: { userId: user.id } });
    const attempts = [
      `/admin/api/resources/Customer/bulk/bulkDelete?recordIds=${customer.id}`,
      `/admin/api/resources/Subscription/bulk/bulkDelete?recordIds=${subscriptionId}`,
      `/admin/api/resources/Customer/records/${customer.id}/delete`,
      `/admin/api/resources/Customer/records/${customer.id}/edit`,
      '/admin/api/resources/Customer/actions/new',
    ];
    for (const url of attempts) {
      const response = await stack.app.inject({ method: 'POST', url, headers, payload: { email: 'x@y.z' } });
      expect(response.statusCode, url).toBe(403);
      expect(response.json().code, url).toBe('admin_action_forbidden');
    }
    expect(await stack.app.billing.db.customer.count({ where: { id: customer.id } })).toBe(1);
    expect(await stack.app.billing.db.subscription.count({ where: { id: subscriptionId } })).toBe(1);
  });

  it('the panel’s own POST, with the token, acts', async () => {
    const admin = await signIn(stack.app);
    const event = await stack.app.billing.db.webhookEvent.findFirstOrThrow();
    const response = await stack.app.inject({
      method: 'POST',
      url: `/admin/api/resources/WebhookEvent/records/${event.id}/replay`,
      headers: {
        cookie: admin.cookie,
        origin: ORIGIN,
        'x-csrf-token': admin.csrfToken ?? '',
        'content-type': 'application/json',
      },
      payload: {},
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().notice).toMatchObject({ type: 'success' });
  });
});

describe('admin sessions in the database', () => {
  it('a login on one replica is valid on another', async () => {
    const admin = await signIn(stack.app, '203.0.113.2');
    for (const app of [replica, stack.app, replica]) {
      const response = await app.inject({
        method: 'GET',
        url: '/admin/api/dashboard',
        headers: { cookie: admin.cookie },
      });
      expect(response.statusCode).toBe(200);
    }
    const loggedOut = await replica.inject({
      method: 'GET',
      url: '/admin/logout',
      headers: { cookie: admin.cookie },
    });
    expect(loggedOut.statusCode).toBe(302);
    const after = await stack.app.inject({
      method: 'GET',
      url: '/admin/api/dashboard',
      headers: { cookie: admin.cookie },
    });
    expect(after.statusCode).toBe(302);
  });
});

describe('admin login: rate limit and lockout, shared by replicas', () => {
  it('locks the account out at that address after 3 failures, across replicas, even for the right password', async () => {
    const ip = '203.0.113.10';
    expect((await login(stack.app, 'wrong-1', ip)).statusCode).toBe(401);
    expect((await login(replica, 'wrong-2', ip)).statusCode).toBe(401);
    expect((await login(stack.app, 'wrong-3', ip)).statusCode).toBe(401);
    const locked = await login(replica, 'admin', ip);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.headers['set-cookie']).toBeUndefined();
    // The real admin elsewhere is not locked out by someone guessing from here.
    expect((await login(stack.app, 'admin', '203.0.113.11')).statusCode).toBe(302);
  });

  it('answers 429 problem+json past 20 attempts a minute from one address, counted across replicas', async () => {
    const ip = '203.0.113.20';
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) {
      // A different login each time: the limit is per address, whatever the account.
      const response = await (i % 2 ? replica : stack.app).inject({
        method: 'POST',
        url: '/admin/login',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: ORIGIN,
          'x-forwarded-for': ip,
        },
        payload: new URLSearchParams({ email: `guess${i}`, password: 'x' }).toString(),
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        expect(response.json()).toMatchObject({ code: 'rate_limited', status: 429 });
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429]);
  });
});
