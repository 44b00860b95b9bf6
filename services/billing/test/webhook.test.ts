import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/queue/queue.js';
import { eventually, type Stack, startStack } from './stack.js';

let stack: Stack;
const signer = new Stripe('sk_test_unused');

beforeAll(async () => {
  stack = await startStack({ WEBHOOK_MAX_ATTEMPTS: '2' });
});
afterAll(async () => {
  await stack?.close();
});

let counter = 0;
function fixture(type: string, object: Record<string, unknown>) {
  counter++;
  return {
    id: `evt_test_${Date.now()}_${counter}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

function post(body: string, signature?: string) {
  return stack.app.inject({
    method: 'POST',
    url: '/api/v1/webhook',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(signature ? { 'stripe-signature': signature } : {}),
    },
    payload: body,
  });
}

function sign(body: string, options: { timestamp?: number; secret?: string } = {}) {
  return signer.webhooks.generateTestHeaderString({
    payload: body,
    secret: options.secret ?? stack.config.stripe.webhookSecret,
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
}

const stored = (id: string) => stack.app.billing.db.webhookEvent.findUnique({ where: { id } });

describe('signature', () => {
  it('refuses a missing, wrong or stale signature with 400 and stores nothing', async () => {
    const event = fixture('balance.available', { id: 'bal_1', object: 'balance' });
    const body = JSON.stringify(event);
    const cases = [
      { signature: undefined, code: 'webhook_signature_missing' },
      { signature: sign(body, { secret: 'whsec_wrong' }), code: 'webhook_signature_invalid' },
      {
        signature: sign(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
        code: 'webhook_signature_invalid',
      },
      { signature: sign(`${body} `), code: 'webhook_signature_invalid' },
    ];
    for (const { signature, code } of cases) {
      const response = await post(body, signature);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code });
    }
    expect(await stored(event.id)).toBeNull();
  });

  it('accepts a signature within the 300 s tolerance over the exact raw bytes', async () => {
    const event = fixture('balance.available', { id: 'bal_2', object: 'balance' });
    const body = JSON.stringify(event, null, 2); // re-serialising would break the signature
    const response = await post(body, sign(body, { timestamp: Math.floor(Date.now() / 1000) - 200 }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true, duplicate: false });
  });
});

describe('inbox', () => {
  it('stores an event once: a duplicate delivery is a 200 no-op with no second job', async () => {
    // A type billing acts on (its processing ends `orphaned`: Stripe does not know the customer).
    const event = fixture('customer.updated', { id: 'cus_dup_3', object: 'customer' });
    const body = JSON.stringify(event);
    const first = await post(body, sign(body));
    const second = await post(body, sign(body));
    expect(first.json()).toEqual({ received: true, duplicate: false });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ received: true, duplicate: true });
    await stack.app.billing.inbox.flush();
    const jobs = await stack.app.billing.boss.findJobs(QUEUES.webhook, { data: { eventId: event.id } });
    expect(jobs).toHaveLength(1);
    const row = await eventually(async () => {
      const r = await stored(event.id);
      return r?.status === 'orphaned' ? r : undefined;
    });
    expect(row).toMatchObject({ type: 'customer.updated', objectId: 'cus_dup_3', attempts: 1 });
  });

  it('keeps an event of a type billing does not act on as ignored at once, with no job; a replay still runs it', async () => {
    const event = fixture('balance.available', { id: 'bal_3', object: 'balance' });
    const body = JSON.stringify(event);
    expect((await post(body, sign(body))).json()).toEqual({ received: true, duplicate: false });
    await stack.app.billing.inbox.flush();
    const row = await stored(event.id);
    expect(row).toMatchObject({
      type: 'balance.available',
      objectId: 'bal_3',
      status: 'ignored',
      attempts: 0,
    });
    expect(row?.processedAt).not.toBeNull();
    // Handed on at receipt, so the stranded-row sweep never picks it up.
    expect(row?.enqueuedAt).not.toBeNull();
    expect(
      await stack.app.billing.boss.findJobs(QUEUES.webhook, { data: { eventId: event.id } }),
    ).toHaveLength(0);
    expect(await stack.app.billing.inbox.replay(event.id)).toBe(true);
    await eventually(async () => (await stored(event.id))?.attempts === 1);
    expect(await stored(event.id)).toMatchObject({ status: 'ignored' });
  });

  it('accepts concurrent deliveries, each stored once and each given one job', async () => {
    const events = Array.from({ length: 50 }, (_, i) =>
      fixture('customer.updated', { id: `cus_many_${i}`, object: 'customer' }),
    );
    const responses = await Promise.all(events.map((e) => post(JSON.stringify(e), sign(JSON.stringify(e)))));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    const ids = events.map((e) => e.id);
    expect(await stack.app.billing.db.webhookEvent.count({ where: { id: { in: ids } } })).toBe(50);
    await stack.app.billing.inbox.flush();
    expect(
      await stack.app.billing.db.webhookEvent.count({
        where: { id: { in: ids }, enqueuedAt: { not: null } },
      }),
    ).toBe(50);
    const jobs = await Promise.all(
      ids.map((id) => stack.app.billing.boss.findJobs(QUEUES.webhook, { data: { eventId: id } })),
    );
    expect(jobs.every((j) => j.length === 1)).toBe(true);
  });

  it('an accepted event whose job was never queued (a crash in between) is queued and processed later', async () => {
    const event = fixture('balance.available', { id: 'bal_stranded', object: 'balance' });
    // What a crash right after the INSERT leaves behind: the row, no job, no enqueued_at.
    await stack.app.billing.db.webhookEvent.create({
      data: {
        id: event.id,
        type: event.type,
        created: new Date(event.created * 1000),
        payload: JSON.parse(JSON.stringify(event)),
        receivedAt: new Date(Date.now() - 60_000),
      },
    });
    expect(await stack.app.billing.inbox.requeueStranded()).toBe(1);
    await eventually(async () => (await stored(event.id))?.status === 'ignored');
    expect((await stored(event.id))?.enqueuedAt).not.toBeNull();
    expect(await stack.app.billing.inbox.requeueStranded()).toBe(0);
  });
});

// Retries and dead-lettering (a failing Stripe) are in slow-stripe.test.ts; 404s end `orphaned` (webhook-hardening.test.ts).
describe('processing failures', () => {
  it('flags a subscription whose customer maps to no user, for an admin', async () => {
    const customer = await stack.stripe.customers.create({ email: 'outsider@example.com' });
    const pm = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const subscription = await stack.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_premium_monthly' }],
      default_payment_method: pm.id,
    });
    await stack.emu.waitForWebhooks();
    const flagged = await eventually(async () =>
      stack.app.billing.db.webhookEvent.findFirst({
        where: { objectId: subscription.id, type: 'customer.subscription.created', status: 'flagged' },
      }),
    );
    expect(flagged.lastError).toContain('no user');
    const row = await stack.app.billing.db.subscription.findUnique({ where: { id: subscription.id } });
    expect(row).toMatchObject({ status: 'active', userId: null, entitledRole: null });
    expect(await stack.app.billing.db.roleSync.count({ where: { subscriptionId: subscription.id } })).toBe(0);
  });
});
