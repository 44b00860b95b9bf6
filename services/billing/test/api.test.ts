import { createPrismaClient as createAuthPrisma, ensureSuperuser } from '@tollgate/auth';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BASIC_MONTHLY,
  bearer,
  eventually,
  newUser,
  PASSWORD,
  PREMIUM_MONTHLY,
  type Stack,
  startStack,
  subscribe,
} from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  expect(response.statusCode).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect((response.json() as { code: string }).code).toBe(code);
}

describe('customer', () => {
  it('creates one Stripe customer per user, even for concurrent first calls', async () => {
    const user = await newUser(stack);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        stack.app.inject({ method: 'POST', url: '/api/v1/customer', headers: bearer(user) }),
      ),
    );
    const ids = new Set(responses.map((r) => (r.json() as { customer_id: string }).customer_id));
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(ids.size).toBe(1);
    const [customerId] = [...ids];
    expect(responses[0]?.json()).toEqual({ user_id: user.id, customer_id: customerId });
    const atStripe = await stack.stripe.customers.search({ query: `metadata['userId']:'${user.id}'` });
    expect(atStripe.data.map((c) => c.id)).toEqual([customerId]);
  });

  it('needs a valid token', async () => {
    expectProblem(
      await stack.app.inject({ method: 'POST', url: '/api/v1/customer' }),
      401,
      'authentication_required',
    );
    expectProblem(
      await stack.app.inject({
        method: 'POST',
        url: '/api/v1/customer',
        headers: { authorization: 'Bearer nope' },
      }),
      401,
      'token_invalid',
    );
  });
});

describe('the user as auth knows them now', () => {
  /** An admin's access token at auth (the stack's auth has ADMIN_LOGIN root). */
  async function adminToken(): Promise<string> {
    const db = createAuthPrisma(inject('authDatabaseUrl'));
    try {
      await ensureSuperuser(
        db,
        { login: 'root', password: 'root-password-for-tests', email: 'root@example.com' },
        () => {},
      );
    } finally {
      await db.$disconnect();
    }
    const response = await stack.auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: 'root', password: 'root-password-for-tests' },
    });
    return (response.json() as { access_token: string }).access_token;
  }

  it("creates the customer with the user's current email, not the token's email claim", async () => {
    const user = await newUser(stack);
    const newEmail = `moved-${user.login}@example.org`;
    const patched = await stack.auth.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(user),
      payload: { email: newEmail, current_password: PASSWORD },
    });
    expect(patched.statusCode).toBe(200);
    // The new address takes effect once the link mailed to it is followed.
    const link = stack.auth.mails.findLast((m) => m.to === newEmail)?.text.match(/#confirm-email=([\w-]+)/);
    const confirmed = await stack.auth.app.inject({
      method: 'POST',
      url: '/v1/auth/email/verify',
      payload: { token: link?.[1] },
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    // The same token, minted before the change, still says the old email.
    const claims = JSON.parse(Buffer.from(user.token.split('.')[1] as string, 'base64url').toString());
    expect(claims.email).toBe(user.email);

    const response = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/customer',
      headers: bearer(user),
    });
    expect(response.statusCode).toBe(200);
    const customer = await stack.stripe.customers.retrieve(
      (response.json() as { customer_id: string }).customer_id,
    );
    expect(customer).toMatchObject({ email: newEmail, name: user.login, metadata: { userId: user.id } });
  });

  it("refuses a disabled or deleted user's token within 1 s of the admin's action", async () => {
    const admin = await adminToken();
    for (const action of ['disable', 'delete'] as const) {
      const user = await newUser(stack);
      const before = await stack.app.inject({
        method: 'GET',
        url: '/api/v1/subscription',
        headers: bearer(user),
      });
      expectProblem(before, 404, 'subscription_not_found');
      const done = await stack.auth.app.inject({
        method: action === 'disable' ? 'POST' : 'DELETE',
        url: action === 'disable' ? `/v1/users/${user.id}/disable` : `/v1/users/${user.id}`,
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(done.statusCode).toBe(204);
      const at = Date.now();
      let refusedAfter: number | undefined;
      while (Date.now() - at < 1_000) {
        const response = await stack.app.inject({
          method: 'GET',
          url: '/api/v1/subscription',
          headers: bearer(user),
        });
        if (response.statusCode === 401) {
          expectProblem(response, 401, 'token_revoked');
          refusedAfter = Date.now() - at;
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(refusedAfter, `${action}: billing still accepted the token after 1 s`).toBeDefined();
      expect(refusedAfter).toBeLessThan(1_000);
    }
  });
});

describe('products', () => {
  it('lists the mirrored products with their active prices and roles', async () => {
    const response = await stack.app.inject({ method: 'GET', url: '/api/v1/products' });
    expect(response.statusCode).toBe(200);
    const { data } = response.json() as {
      data: {
        id: string;
        role: string | null;
        prices: { id: string; unit_amount: number; interval: string }[];
      }[];
    };
    const premium = data.find((p) => p.id === 'prod_tollgate_premium');
    expect(premium?.role).toBe('premium');
    expect(premium?.prices.map((p) => p.id).sort()).toEqual([
      'price_tollgate_premium_monthly',
      'price_tollgate_premium_yearly',
    ]);
    expect(data.find((p) => p.id === 'prod_tollgate_basic')?.role).toBe('subscriber');
  });
});

describe('checkout', () => {
  it('answers a Checkout Session for the user (GET and POST)', async () => {
    const user = await newUser(stack);
    const viaPost = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/checkout',
      headers: bearer(user),
      payload: { price_id: PREMIUM_MONTHLY },
    });
    expect(viaPost.statusCode).toBe(200);
    const body = viaPost.json() as { checkout_session_id: string; checkout_session_url: string };
    expect(body.checkout_session_id).toMatch(/^cs_/);
    expect(body.checkout_session_url).toContain(body.checkout_session_id);
    const session = await stack.stripe.checkout.sessions.retrieve(body.checkout_session_id);
    expect(session.mode).toBe('subscription');
    expect(session.client_reference_id).toBe(user.id);
    expect(session.success_url).toBe(`${stack.billingUrl}/api/v1/success?session_id={CHECKOUT_SESSION_ID}`);
    const customer = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/customer',
      headers: bearer(user),
    });
    expect(session.customer).toBe((customer.json() as { customer_id: string }).customer_id);

    const viaGet = await stack.app.inject({
      method: 'GET',
      url: `/api/v1/checkout?price_id=${BASIC_MONTHLY}`,
      headers: bearer(user),
    });
    expect(viaGet.statusCode).toBe(200);
    expect((viaGet.json() as { checkout_session_id: string }).checkout_session_id).toMatch(/^cs_/);
  });

  it('refuses malformed (400), unknown or inactive (404) prices, and unknown fields', async () => {
    const user = await newUser(stack);
    const post = (payload: unknown) =>
      stack.app.inject({
        method: 'POST',
        url: '/api/v1/checkout',
        headers: bearer(user),
        payload: payload as object,
      });
    expectProblem(await post({ price_id: 'not a price' }), 400, 'validation_failed');
    expectProblem(await post({}), 400, 'validation_failed');
    expectProblem(await post({ price_id: PREMIUM_MONTHLY, extra: 1 }), 400, 'validation_failed');
    expectProblem(await post({ price_id: 'price_does_not_exist' }), 404, 'price_not_found');
    const archived = await stack.stripe.prices.create({
      product: 'prod_tollgate_basic',
      currency: 'usd',
      unit_amount: 123,
      recurring: { interval: 'month' },
    });
    await stack.stripe.prices.update(archived.id, { active: false });
    await stack.app.billing.catalog.refreshPrice(archived.id);
    expectProblem(await post({ price_id: archived.id }), 404, 'price_not_found');
    expectProblem(
      await stack.app.inject({ method: 'GET', url: '/api/v1/checkout', headers: bearer(user) }),
      400,
      'validation_failed',
    );
  });

  it('answers 409 when the user already has an active subscription', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, BASIC_MONTHLY);
    await eventually(async () => (await stack.app.billing.subscriptions.findLive(user.id)) ?? undefined);
    const again = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/checkout',
      headers: bearer(user),
      payload: { price_id: PREMIUM_MONTHLY },
    });
    expectProblem(again, 409, 'subscription_exists');
    expect(again.json().detail).toBe(
      'you already have an active subscription; change plan with POST /api/v1/subscription/change',
    );
  });
});

describe('subscription, invoices and portal without a subscription', () => {
  it('answers 404 with stable codes and an empty invoice list', async () => {
    const user = await newUser(stack);
    for (const method of ['GET', 'DELETE', 'POST'] as const) {
      expectProblem(
        await stack.app.inject({ method, url: '/api/v1/subscription', headers: bearer(user) }),
        404,
        'subscription_not_found',
      );
    }
    expectProblem(
      await stack.app.inject({
        method: 'PUT',
        url: '/api/v1/subscription',
        headers: bearer(user),
        payload: { price_id: PREMIUM_MONTHLY },
      }),
      404,
      'subscription_not_found',
    );
    const invoices = await stack.app.inject({
      method: 'GET',
      url: '/api/v1/invoices',
      headers: bearer(user),
    });
    expect(invoices.json()).toEqual({ data: [] });
    expectProblem(
      await stack.app.inject({ method: 'GET', url: '/api/v1/portal', headers: bearer(user) }),
      404,
      'customer_not_found',
    );
  });
});

describe('pages, docs, health', () => {
  it('renders the cancel page and the success page of a paid session', async () => {
    const cancel = await stack.app.inject({ method: 'GET', url: '/api/v1/cancel' });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.headers['content-type']).toMatch(/text\/html/);
    expect(cancel.body).toContain('You were not charged');
    expect(cancel.body).toContain('Premium');

    const user = await newUser(stack);
    const sessionId = await subscribe(stack, user, PREMIUM_MONTHLY);
    const success = await stack.app.inject({ method: 'GET', url: `/api/v1/success?session_id=${sessionId}` });
    expect(success.statusCode).toBe(200);
    expect(success.headers['content-type']).toMatch(/text\/html/);
    expect(success.body).toContain('your payment went through');
    expect(success.body).toContain('Premium');
    expect(success.body).toContain('premium');
    expect(success.body).toContain('active');

    const unknown = await stack.app.inject({ method: 'GET', url: '/api/v1/success?session_id=cs_test_nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('could not find');
  });

  it('publishes its OpenAPI document and health probes', async () => {
    const doc = await stack.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys((doc.json() as { paths: Record<string, unknown> }).paths);
    for (const path of ['/api/v1/checkout', '/api/v1/subscription', '/api/v1/webhook', '/api/v1/portal']) {
      expect(paths).toContain(path);
    }
    expect((await stack.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const ready = await stack.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.json()).toMatchObject({
      status: 'ok',
      checks: { database: { status: 'ok' }, queue: { status: 'ok' } },
    });
  });
});
