/** Webhook delivery: retries with backoff, recorded deliveries, and each fault mode. */
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../src/index.js';
import { Receiver, setup, type TestEmulator } from './helper.js';

let t: TestEmulator;
let stripe: Stripe;
let receiver: Receiver;

interface Deliveries {
  data: Delivery[];
  pending: number;
  idle: boolean;
}

beforeAll(async () => {
  receiver = await new Receiver().start();
  t = await setup({ webhookUrl: receiver.url, webhookRetryBaseMs: 10, webhookMaxAttempts: 4 });
  stripe = t.stripe;
});
beforeEach(async () => {
  await t.control('POST', '/_emulator/reset');
  receiver.received.length = 0;
  receiver.statuses = [];
});
afterEach(async () => {
  await t.control('POST', '/_emulator/config', {
    duplicate_rate: 0,
    shuffle: false,
    delay_ms: 0,
    fail_first_attempts: 0,
  });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function createCustomers(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await stripe.customers.create({ email: `wh${i}@example.com` })).id);
  return ids;
}

function verified(): Stripe.Event[] {
  return receiver.received.map((r) =>
    stripe.webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), t.emu.webhookSecret),
  );
}

describe('delivery', () => {
  it('retries with backoff on non-2xx until the endpoint accepts, recording every attempt', async () => {
    receiver.statuses = [500, 503];
    const [id] = await createCustomers(1);
    const res = await t.control<Deliveries>('GET', '/_emulator/deliveries?wait_ms=5000');
    expect(res.idle).toBe(true);
    const delivery = res.data.find((d) => d.event_type === 'customer.created');
    expect(delivery?.status).toBe('succeeded');
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    expect(receiver.received).toHaveLength(3);
    const gaps = receiver.received.slice(1).map((r, i) => r.at - (receiver.received[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(8);
    expect(gaps[1]).toBeGreaterThanOrEqual(gaps[0] ?? 0);
    const event = await stripe.events.retrieve(delivery?.event_id ?? '');
    expect(event.pending_webhooks).toBe(0);
    expect(verified().every((e) => (e.data.object as Stripe.Customer).id === id)).toBe(true);
  });

  it('gives up after the configured attempts', async () => {
    receiver.statuses = [500, 500, 500, 500, 500];
    await createCustomers(1);
    const res = await t.control<Deliveries>(
      'GET',
      '/_emulator/deliveries?wait_ms=5000&type=customer.created',
    );
    expect(res.data[0]?.status).toBe('failed');
    expect(res.data[0]?.attempts).toHaveLength(4);
    const event = await stripe.events.retrieve(res.data[0]?.event_id ?? '');
    expect(event.pending_webhooks).toBe(1);
  });

  it('delivers to endpoints created through the API with their own secret and event filter', async () => {
    const other = await new Receiver().start();
    try {
      const ep = await stripe.webhookEndpoints.create({
        url: other.url,
        enabled_events: ['product.created'],
      });
      await createCustomers(1);
      await stripe.products.create({ name: 'Filtered' });
      await t.emu.waitForWebhooks();
      expect(other.types()).toEqual(['product.created']);
      const r = other.received[0];
      const event = stripe.webhooks.constructEvent(
        r?.body ?? '',
        String(r?.headers['stripe-signature']),
        ep.secret ?? '',
      );
      expect(event.type).toBe('product.created');
      expect(event.pending_webhooks).toBe(2);
    } finally {
      await other.close();
    }
  });
});

describe('fault injection', () => {
  it('duplicate_rate 1 sends every event twice', async () => {
    await t.control('POST', '/_emulator/config', { duplicate_rate: 1 });
    await createCustomers(3);
    await t.emu.waitForWebhooks();
    const ids = verified().map((e) => e.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(3);
    const res = await t.control<Deliveries>('GET', '/_emulator/deliveries');
    expect(res.data.filter((d) => d.duplicate)).toHaveLength(3);
  });

  it('shuffle delivers a batch out of creation order', async () => {
    // The delay keeps the first delivery in flight while the others queue up, so there is a batch to shuffle.
    await t.control('POST', '/_emulator/config', { shuffle: true, delay_ms: 20 });
    const calls = Array.from({ length: 30 }, (_, i) =>
      stripe.customers.create({ email: `s${i}@example.com` }),
    );
    await Promise.all(calls);
    await t.emu.waitForWebhooks();
    const order = verified().map((e) => e.id);
    const created = (await stripe.events.list({ limit: 100 })).data.map((e) => e.id).reverse();
    expect(order).toHaveLength(30);
    expect(new Set(order)).toEqual(new Set(created));
    expect(order).not.toEqual(created);
  });

  it('delay_ms holds each delivery back', async () => {
    await t.control('POST', '/_emulator/config', { delay_ms: 150 });
    const started = Date.now();
    await createCustomers(1);
    await t.emu.waitForWebhooks();
    expect(receiver.received).toHaveLength(1);
    expect((receiver.received[0]?.at ?? 0) - started).toBeGreaterThanOrEqual(140);
  });

  it('fail_first_attempts N fails the first N attempts without sending, then delivers', async () => {
    await t.control('POST', '/_emulator/config', { fail_first_attempts: 2 });
    await createCustomers(1);
    const res = await t.control<Deliveries>('GET', '/_emulator/deliveries?wait_ms=5000');
    const d = res.data[0];
    expect(d?.status).toBe('succeeded');
    expect(d?.attempts.map((a) => a.injected_failure)).toEqual([true, true, false]);
    expect(receiver.received).toHaveLength(1);
  });

  it('reset clears state and keeps the catalogue and the env endpoint', async () => {
    await createCustomers(2);
    await t.control('POST', '/_emulator/reset');
    expect((await stripe.customers.list()).data).toHaveLength(0);
    expect((await stripe.events.list()).data).toHaveLength(0);
    expect((await stripe.prices.list()).data).toHaveLength(5);
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.url)).toEqual([receiver.url]);
    const res = await t.control<Deliveries>('GET', '/_emulator/deliveries');
    expect(res.data).toHaveLength(0);
  });

  it('validates the control API body', async () => {
    const res = await fetch(`${t.emu.url}/_emulator/config`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.emu.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ duplicate_rate: 2 }),
    });
    expect(res.status).toBe(400);
    const noKey = await fetch(`${t.emu.url}/_emulator/reset`, { method: 'POST' });
    expect(noKey.status).toBe(401);
  });
});
