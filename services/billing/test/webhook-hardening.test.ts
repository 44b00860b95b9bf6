/**
 * What a signed webhook may not do: crash billing with a malformed envelope,
 * fail other deliveries sharing its INSERT, carry a signature dated ahead,
 * or grant anything about an object Stripe does not know.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  rolesInAuth,
  type Stack,
  startStack,
} from './stack.js';
import { deliver, eventFixture, signBody } from './support/signed-events.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const stored = (id: unknown) => stack.app.billing.db.webhookEvent.findUnique({ where: { id: String(id) } });

describe('event envelope', () => {
  it.each([
    ['no created', (e: Record<string, unknown>) => delete e.created],
    ['created as text', (e: Record<string, unknown>) => (e.created = 'yesterday')],
    ['created out of range', (e: Record<string, unknown>) => (e.created = 1e16)],
    ['no type', (e: Record<string, unknown>) => delete e.type],
    ['no data.object', (e: Record<string, unknown>) => (e.data = {})],
    ['data.object.id a number', (e: Record<string, unknown>) => (e.data = { object: { id: 42 } })],
  ])(
    'a signed event with %s is a 400 with nothing stored, and billing keeps serving',
    async (_name, spoil) => {
      const event = eventFixture('customer.subscription.updated', {
        id: 'sub_envelope',
        object: 'subscription',
      });
      spoil(event);
      const response = await deliver(stack, JSON.stringify(event));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'webhook_payload_invalid' });
      expect(await stored(event.id)).toBeNull();

      // The process and the inbox are still fine: the next good event is accepted and stored.
      const good = eventFixture('balance.available', { id: 'bal_after', object: 'balance' });
      const next = await deliver(stack, JSON.stringify(good));
      expect(next.statusCode).toBe(200);
      expect(await stored(good.id)).not.toBeNull();
    },
  );

  it('a delivery Postgres cannot store fails alone, not the good ones sharing its batch', async () => {
    const goods = Array.from({ length: 5 }, (_, i) =>
      eventFixture('balance.available', { id: `bal_batch_${i}`, object: 'balance' }),
    );
    // jsonb cannot hold a NUL character: a valid envelope whose INSERT Postgres refuses.
    const bad = eventFixture('customer.updated', { id: 'cus_nul', object: 'customer', name: 'a\u0000b' });
    const responses = await Promise.all([...goods, bad].map((e) => deliver(stack, JSON.stringify(e))));
    expect(responses.slice(0, 5).map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(responses[5]?.statusCode).toBe(400);
    expect(responses[5]?.json()).toMatchObject({ code: 'webhook_payload_invalid' });
    for (const e of goods) expect(await stored(e.id)).not.toBeNull();
    expect(await stored(bad.id)).toBeNull();
  });
});

describe('signature timestamp', () => {
  it('refuses a signature dated more than 300 s in the future, accepts small clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ahead = eventFixture('balance.available', { id: 'bal_future', object: 'balance' });
    const body = JSON.stringify(ahead);
    const refused = await deliver(stack, body, signBody(stack, body, now + 301));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'webhook_signature_invalid' });
    expect(await stored(ahead.id)).toBeNull();

    const skewed = eventFixture('balance.available', { id: 'bal_skew', object: 'balance' });
    const skewedBody = JSON.stringify(skewed);
    const accepted = await deliver(stack, skewedBody, signBody(stack, skewedBody, now + 30));
    expect(accepted.statusCode).toBe(200);
  });
});

describe('objects Stripe does not know', () => {
  const orphanedRow = (id: unknown) =>
    eventually(async () => {
      const row = await stored(id);
      return row?.status === 'orphaned' ? row : undefined;
    });

  it('a signed subscription event about a subscription Stripe answers 404 for is orphaned and grants nothing', async () => {
    const user = await newUser(stack);
    const customer = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/customer',
      headers: bearer(user),
    });
    const customerId = (customer.json() as { customer_id: string }).customer_id;
    const now = Math.floor(Date.now() / 1000);
    // Everything a real active premium subscription of this user would carry, except existing at Stripe.
    const forged = {
      id: `sub_forged_${now}`,
      object: 'subscription',
      customer: customerId,
      status: 'active',
      created: now,
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      metadata: { userId: user.id },
      items: {
        object: 'list',
        data: [
          {
            id: `si_forged_${now}`,
            object: 'subscription_item',
            current_period_start: now,
            current_period_end: now + 30 * 86_400,
            price: {
              id: PREMIUM_MONTHLY,
              object: 'price',
              product: 'prod_tollgate_premium',
              active: true,
              currency: 'usd',
              unit_amount: 999,
              recurring: { interval: 'month', interval_count: 1 },
            },
          },
        ],
      },
    };
    const event = eventFixture('customer.subscription.created', forged);
    expect((await deliver(stack, JSON.stringify(event))).statusCode).toBe(200);

    const row = await orphanedRow(event.id);
    expect(row.lastError).toContain(forged.id);
    const db = stack.app.billing.db;
    expect(await db.subscription.findUnique({ where: { id: forged.id } })).toBeNull();
    expect(await db.roleSync.count({ where: { subscriptionId: forged.id } })).toBe(0);
    expect(await rolesInAuth(stack, user)).not.toContain('premium');
  });

  it.each([
    ['checkout.session.completed', { id: 'cs_test_unknown_to_stripe', object: 'checkout.session' }],
    ['invoice.paid', { id: 'in_unknown_to_stripe', object: 'invoice', customer: 'cus_unknown' }],
    ['customer.updated', { id: 'cus_unknown_to_stripe', object: 'customer', metadata: {} }],
  ])(
    '%s about an unknown object is orphaned at once (no retries) and writes nothing',
    async (type, object) => {
      const event = eventFixture(type, object);
      expect((await deliver(stack, JSON.stringify(event))).statusCode).toBe(200);
      const row = await orphanedRow(event.id);
      expect(row.attempts).toBe(1);
      expect(
        await stack.app.billing.db.customer.findUnique({ where: { id: 'cus_unknown_to_stripe' } }),
      ).toBeNull();
      expect(
        await stack.app.billing.db.invoice.findUnique({ where: { id: 'in_unknown_to_stripe' } }),
      ).toBeNull();
    },
  );
});
