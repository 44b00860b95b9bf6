import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let stack: Stack;
let cookie: string;
let csrfToken: string;
let user: TestUser;
let subscriptionId: string;

async function adminLogin(login: string, password: string) {
  return stack.app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' },
    payload: new URLSearchParams({ email: login, password }).toString(),
  });
}

/** As the panel's own page asks: its origin, and (for a POST) the session's CSRF token. */
const admin = (method: 'GET' | 'POST', url: string) =>
  method === 'GET'
    ? stack.app.inject({ method, url: `/admin/api${url}`, headers: { cookie } })
    : stack.app.inject({
        method,
        url: `/admin/api${url}`,
        headers: { cookie, origin: 'http://localhost', 'x-csrf-token': csrfToken },
        payload: {},
      });

beforeAll(async () => {
  stack = await startStack();
  user = await newUser(stack);
  await subscribe(stack, user, BASIC_MONTHLY);
  await stack.emu.waitForWebhooks();
  await eventually(async () => (await rolesInAuth(stack, user)).includes('subscriber'));
  subscriptionId = (await stack.app.billing.db.subscription.findFirstOrThrow({ where: { userId: user.id } }))
    .id;
  const response = await adminLogin('admin', 'admin');
  cookie = String(response.headers['set-cookie']).split(';')[0]!;
  const page = await stack.app.inject({ method: 'GET', url: '/admin', headers: { cookie } });
  csrfToken = /"csrfToken":"([^"]+)"/.exec(page.body)![1]!;
});
afterAll(async () => stack.close());

describe('AdminJS at /admin', () => {
  it('asks for a login, and refuses a wrong password', async () => {
    const page = await stack.app.inject({ method: 'GET', url: '/admin' });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/admin/login');
    const wrong = await adminLogin('admin', 'not-admin');
    expect(wrong.statusCode).toBe(401); // the form again, with an error
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await stack.app.inject({ method: 'GET', url: '/admin/api/dashboard' })).statusCode).toBe(302);
  });

  it('logs in with the configured credentials', async () => {
    const ok = await adminLogin('admin', 'admin');
    expect(ok.statusCode).toBe(302);
    expect(ok.headers.location).toBe('/admin');
    expect(String(ok.headers['set-cookie'])).toMatch(/tollgate_admin=.*HttpOnly/i);
  });

  it('dashboard: active subscriptions, MRR and new vs churned per day over 30 days', async () => {
    const response = await admin('GET', '/dashboard');
    expect(response.statusCode).toBe(200);
    const stats = response.json() as {
      activeSubscriptions: number;
      mrr: { currency: string; amount: number }[];
      daily: { date: string; new: number; churned: number }[];
    };
    expect(stats.activeSubscriptions).toBe(1);
    const price = await stack.app.billing.db.price.findUniqueOrThrow({ where: { id: BASIC_MONTHLY } });
    expect(stats.mrr).toEqual([{ currency: price.currency, amount: price.unitAmount }]);
    expect(stats.daily).toHaveLength(30);
    expect(stats.daily.at(-1)).toMatchObject({ new: 1, churned: 0 });
  });

  it('lists the billing tables as resources', async () => {
    for (const resource of [
      'Customer',
      'Subscription',
      'Product',
      'Price',
      'Invoice',
      'WebhookEvent',
      'RoleSync',
    ]) {
      const list = await admin('GET', `/resources/${resource}/actions/list`);
      expect(list.statusCode, resource).toBe(200);
    }
    const subs = (await admin('GET', '/resources/Subscription/actions/list')).json() as {
      records: { id: string }[];
    };
    expect(subs.records.map((r) => r.id)).toContain(subscriptionId);
    const events = (await admin('GET', '/resources/WebhookEvent/actions/list')).json() as {
      meta: { total: number };
    };
    expect(events.meta.total).toBeGreaterThan(0);
  });

  it('replays a webhook event and retries a role sync', async () => {
    const event = await stack.app.billing.db.webhookEvent.findFirstOrThrow({
      where: { type: 'customer.subscription.created' },
    });
    const replay = await admin('POST', `/resources/WebhookEvent/records/${event.id}/replay`);
    expect(replay.json().notice).toMatchObject({ type: 'success' });
    const sync = await stack.app.billing.db.roleSync.findFirstOrThrow({ where: { userId: user.id } });
    const retry = await admin('POST', `/resources/RoleSync/records/${sync.id}/retry`);
    expect(retry.json().notice).toMatchObject({ type: 'success' });
    await eventually(
      async () =>
        (await stack.app.billing.db.roleSync.findUnique({ where: { id: sync.id } }))?.status === 'succeeded',
    );
  });

  it('resyncs a customer from Stripe', async () => {
    const customer = await stack.app.billing.db.customer.findFirstOrThrow({ where: { userId: user.id } });
    await stack.app.billing.db.invoice.deleteMany({ where: { customerId: customer.id } });
    const response = await admin('POST', `/resources/Customer/records/${customer.id}/resync`);
    expect(response.json().notice.message).toMatch(/1 subscription\(s\), 1 invoice\(s\)/);
    expect(await stack.app.billing.db.invoice.count({ where: { customerId: customer.id } })).toBe(1);
  });

  it('refunds the latest invoice at Stripe', async () => {
    const response = await admin('POST', `/resources/Subscription/records/${subscriptionId}/refundLatest`);
    expect(response.json().notice).toMatchObject({ type: 'success' });
    const invoice = await stack.app.billing.db.invoice.findFirstOrThrow({ where: { subscriptionId } });
    const refunds = await stack.stripe.refunds.list({ limit: 10 });
    expect(refunds.data.map((r) => r.metadata?.invoice)).toContain(invoice.id);
    expect(refunds.data[0]!.amount).toBe(invoice.amountPaid);
    // A second click (or a retried request) does not refund twice: the same idempotency key.
    const again = await admin('POST', `/resources/Subscription/records/${subscriptionId}/refundLatest`);
    expect(again.json().notice.message).toBe(response.json().notice.message);
    const after = await stack.stripe.refunds.list({ limit: 10 });
    expect(after.data.filter((r) => r.metadata?.invoice === invoice.id)).toHaveLength(1);
  });

  it('cancels a subscription now: Stripe first, then the role goes', async () => {
    const response = await admin('POST', `/resources/Subscription/records/${subscriptionId}/cancelNow`);
    expect(response.json().notice).toMatchObject({ type: 'success' });
    expect((await stack.stripe.subscriptions.retrieve(subscriptionId)).status).toBe('canceled');
    await eventually(async () => (await rolesInAuth(stack, user)).length === 0);
    const dashboard = (await admin('GET', '/dashboard')).json() as {
      activeSubscriptions: number;
      daily: { churned: number }[];
    };
    expect(dashboard.activeSubscriptions).toBe(0);
    expect(dashboard.daily.at(-1)!.churned).toBe(1);
  });
});

describe('billing OpenAPI document', () => {
  it('documents the API and leaves the admin panel out', async () => {
    const doc = (await stack.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/v1/checkout', '/api/v1/subscription', '/api/v1/webhook']),
    );
    expect(paths.filter((p) => p.startsWith('/admin'))).toEqual([]);
  });
});
