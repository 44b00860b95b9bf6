/**
 * What a signed webhook may not do: crash billing with a malformed envelope,
 * fail other deliveries sharing its INSERT, or carry a signature dated ahead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './stack.js';
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
