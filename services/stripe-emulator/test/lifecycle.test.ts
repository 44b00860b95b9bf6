/**
 * The full subscription lifecycle with time advance, for each test card,
 * observed through the SDK and the signed webhooks.
 */
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CARD_OK, DAY, payOnHostedPage, Receiver, setup, type TestEmulator } from './helper.js';

let t: TestEmulator;
let stripe: Stripe;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await new Receiver().start();
  t = await setup({ webhookUrl: receiver.url, paymentRetryDays: [1, 2, 3] });
  stripe = t.stripe;
});
afterEach(async () => {
  await t.emu.waitForWebhooks();
  // Every delivery of every test is signed as Stripe signs.
  for (const r of receiver.received) {
    const event = stripe.webhooks.constructEvent(
      r.body,
      String(r.headers['stripe-signature']),
      t.emu.webhookSecret,
    );
    expect(event.id).toMatch(/^evt_/);
  }
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function advance(seconds: number): Promise<void> {
  await t.control('POST', '/_emulator/advance-time', { seconds });
  await t.emu.waitForWebhooks();
}

/** Subscribes through the hosted checkout page with 4242, as a user would. */
async function subscribe(price = 'price_tollgate_basic_monthly') {
  const customer = await stripe.customers.create({ email: `life-${Math.random()}@example.com` });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    line_items: [{ price, quantity: 1 }],
    success_url: 'http://shop.test/ok',
  });
  await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
  const done = await stripe.checkout.sessions.retrieve(session.id);
  const sub = await stripe.subscriptions.retrieve(String(done.subscription));
  await t.emu.waitForWebhooks();
  return { customer, sub };
}

function eventsFor(id: string): Stripe.Event[] {
  return receiver.events().filter((e) => {
    const o = e.data.object as { id?: string; parent?: Stripe.Invoice['parent'] };
    return o.id === id || o.parent?.subscription_details?.subscription === id;
  });
}

function periodEnd(sub: Stripe.Subscription): number {
  return sub.items.data[0]?.current_period_end ?? 0;
}

describe('webhook signatures', () => {
  it('verify with stripe.webhooks.constructEvent and the endpoint secret, and fail with another', async () => {
    await stripe.customers.create({ email: 'sig@example.com' });
    await t.emu.waitForWebhooks();
    const last = receiver.received.at(-1);
    expect(last?.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(last?.headers['content-type']).toMatch(/application\/json/);
    expect(() =>
      stripe.webhooks.constructEvent(
        last?.body ?? '',
        String(last?.headers['stripe-signature']),
        'whsec_other',
      ),
    ).toThrow(/No signatures found matching/);
  });
});

describe('renewal', () => {
  it('with a working card: draft, open and paid renewal invoice and a new period', async () => {
    const { sub } = await subscribe();
    const end = periodEnd(sub);
    const now = (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
    await advance(end - now + 2 * 3600);

    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.status).toBe('active');
    expect(renewed.items.data[0]?.current_period_start).toBe(end);
    expect(periodEnd(renewed)).toBeGreaterThan(end + 27 * DAY);
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    const cycle = invoices.data[0];
    expect(cycle?.billing_reason).toBe('subscription_cycle');
    expect(cycle?.status).toBe('paid');
    expect(cycle?.amount_paid).toBe(499);
    expect(cycle?.period_end).toBe(end);
    expect(cycle?.lines.data[0]?.period.start).toBe(end);
    expect(renewed.latest_invoice).toBe(cycle?.id);

    const types = eventsFor(sub.id).map((e) => e.type);
    expect(types.slice(5)).toEqual([
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    const evs = eventsFor(sub.id);
    const updated = evs[5] as Stripe.Event;
    const prevItems = (updated.data.previous_attributes as { items: { data: Stripe.SubscriptionItem[] } })
      .items;
    expect(prevItems.data[0]?.current_period_end).toBe(end);
    const draft = evs[6]?.data.object as Stripe.Invoice;
    expect(draft.status).toBe('draft');
    expect(draft.auto_advance).toBe(true);
    expect(draft.next_payment_attempt).toBe(end + 3600);
    expect((evs[7]!.data.object as Stripe.Invoice).status).toBe('open');
    expect(evs[8]?.request).toEqual({ id: null, idempotency_key: null });
  });

  it('with pm_card_chargeCustomerFail as default payment method: fails, past_due, retries, then canceled', async () => {
    const { customer, sub } = await subscribe();
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    const now = (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
    await advance(periodEnd(sub) - now + 2 * 3600);

    const pastDue = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(pastDue.status).toBe('past_due');
    const invoice = pastDue.latest_invoice as Stripe.Invoice;
    expect(invoice.status).toBe('open');
    expect(invoice.attempt_count).toBe(1);
    expect(invoice.attempted).toBe(true);
    expect(invoice.next_payment_attempt).toBe((invoice.effective_at ?? 0) + DAY);
    const failed = eventsFor(sub.id).filter((e) => e.type === 'invoice.payment_failed');
    expect(failed).toHaveLength(1);
    const toPastDue = eventsFor(sub.id).find(
      (e) =>
        e.type === 'customer.subscription.updated' &&
        (e.data.object as Stripe.Subscription).status === 'past_due',
    );
    expect(toPastDue?.data.previous_attributes).toEqual({ status: 'active' });

    // Retries after 1, 2 and 3 days; after the last one the subscription is canceled.
    await advance(7 * DAY);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended.status).toBe('canceled');
    expect(ended.cancellation_details?.reason).toBe('payment_failed');
    const after = await stripe.invoices.retrieve(invoice.id);
    expect(after.attempt_count).toBe(4);
    expect(after.next_payment_attempt).toBeNull();
    const types = eventsFor(sub.id).map((e) => e.type);
    expect(types.filter((x) => x === 'invoice.payment_failed')).toHaveLength(4);
    expect(types.at(-1)).toBe('customer.subscription.deleted');
  });

  it('a failing renewal recovers when the invoice is paid with a working card', async () => {
    const { customer, sub } = await subscribe();
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    const now = (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
    await advance(periodEnd(sub) - now + 2 * 3600);
    const pastDue = await stripe.subscriptions.retrieve(sub.id);
    expect(pastDue.status).toBe('past_due');
    await expect(stripe.invoices.pay(String(pastDue.latest_invoice))).rejects.toMatchObject({
      statusCode: 402,
    });
    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: visa.id });
    const paid = await stripe.invoices.pay(String(pastDue.latest_invoice));
    expect(paid.status).toBe('paid');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });
});

describe('cancellation', () => {
  it('cancel_at_period_end: updated with previous attributes, then deleted at period end, no renewal', async () => {
    const { sub } = await subscribe();
    const set = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(set.cancel_at_period_end).toBe(true);
    expect(set.cancel_at).toBe(periodEnd(sub));
    expect(set.canceled_at).not.toBeNull();
    expect(set.cancellation_details?.reason).toBe('cancellation_requested');
    await t.emu.waitForWebhooks();
    const upd = eventsFor(sub.id).at(-1);
    expect(upd?.type).toBe('customer.subscription.updated');
    expect(upd?.data.previous_attributes).toEqual({
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { reason: null },
    });
    expect(upd?.request?.id).toMatch(/^req_/);

    const now = (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
    await advance(periodEnd(sub) - now + 10);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended.status).toBe('canceled');
    expect(ended.ended_at).toBe(periodEnd(sub));
    expect(ended.canceled_at).toBe(set.canceled_at);
    expect(eventsFor(sub.id).at(-1)?.type).toBe('customer.subscription.deleted');
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('resume before period end returns the fields to null/false', async () => {
    const { sub } = await subscribe();
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    const resumed = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(resumed.cancel_at).toBeNull();
    expect(resumed.canceled_at).toBeNull();
    expect(resumed.cancellation_details?.reason).toBeNull();
    await t.emu.waitForWebhooks();
    const last = eventsFor(sub.id).at(-1);
    expect(last?.data.previous_attributes).toMatchObject({ cancel_at_period_end: true });
  });

  it('cancel_at a time: ends then', async () => {
    const { sub } = await subscribe();
    const now = (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
    const when = now + 5 * DAY;
    const set = await stripe.subscriptions.update(sub.id, { cancel_at: when });
    expect(set.cancel_at).toBe(when);
    expect(set.cancel_at_period_end).toBe(false);
    await advance(6 * DAY);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended.status).toBe('canceled');
    expect(ended.ended_at).toBe(when);
  });

  it('immediate cancel sends only customer.subscription.deleted', async () => {
    const { sub } = await subscribe();
    const before = eventsFor(sub.id).length;
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.canceled_at).toBe(canceled.ended_at);
    await t.emu.waitForWebhooks();
    const after = eventsFor(sub.id).slice(before);
    expect(after.map((e) => e.type)).toEqual(['customer.subscription.deleted']);
    expect(after[0]?.request?.idempotency_key).toBeNull();
    await expect(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true })).rejects.toMatchObject({
      statusCode: 400,
    });
    expect((await stripe.subscriptions.list({ customer: String(sub.customer) })).data).toHaveLength(0);
    expect(
      (await stripe.subscriptions.list({ customer: String(sub.customer), status: 'canceled' })).data,
    ).toHaveLength(1);
  });
});

describe('plan change', () => {
  it('always_invoice: prorated invoice paid now', async () => {
    const { sub } = await subscribe('price_tollgate_basic_monthly');
    await advance(10 * DAY);
    const item = sub.items.data[0] as Stripe.SubscriptionItem;
    const changed = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: 'price_tollgate_premium_monthly' }],
      proration_behavior: 'always_invoice',
      expand: ['latest_invoice'],
    });
    expect(changed.items.data[0]?.id).toBe(item.id);
    expect(changed.items.data[0]?.price.id).toBe('price_tollgate_premium_monthly');
    const invoice = changed.latest_invoice as Stripe.Invoice;
    expect(invoice.billing_reason).toBe('subscription_update');
    expect(invoice.status).toBe('paid');
    const [credit, charge] = invoice.lines.data;
    expect(credit?.amount).toBeLessThan(0);
    expect(charge?.amount).toBeGreaterThan(0);
    expect(credit?.parent?.subscription_item_details?.proration).toBe(true);
    expect(invoice.amount_due).toBe((credit?.amount ?? 0) + (charge?.amount ?? 0));
    expect(invoice.amount_due).toBeGreaterThan(0);
    expect(invoice.amount_due).toBeLessThan(500);
    await t.emu.waitForWebhooks();
    const upd = eventsFor(sub.id).find((e) => e.type === 'customer.subscription.updated');
    const prev = upd?.data.previous_attributes as { items: { data: Stripe.SubscriptionItem[] } };
    expect(prev.items.data[0]?.price.id).toBe('price_tollgate_basic_monthly');
  });

  it('create_prorations: pending invoice items land on the next renewal invoice', async () => {
    const { sub } = await subscribe('price_tollgate_basic_monthly');
    const item = sub.items.data[0] as Stripe.SubscriptionItem;
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: 'price_tollgate_premium_monthly' }],
    });
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    await t.emu.waitForWebhooks();
    expect(receiver.types().filter((x) => x === 'invoiceitem.created').length).toBeGreaterThanOrEqual(2);
    const now = (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
    await advance(periodEnd(sub) - now + 2 * 3600);
    const renewal = (await stripe.invoices.list({ subscription: sub.id })).data[0];
    expect(renewal?.billing_reason).toBe('subscription_cycle');
    expect(renewal?.lines.data.filter((l) => l.parent?.subscription_item_details?.proration)).toHaveLength(2);
    expect(renewal?.lines.data.at(-1)?.amount).toBe(999);
  });

  it('monthly to yearly resets the billing cycle and invoices now', async () => {
    const { sub } = await subscribe('price_tollgate_basic_monthly');
    const item = sub.items.data[0] as Stripe.SubscriptionItem;
    const changed = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: 'price_tollgate_basic_yearly' }],
    });
    expect(periodEnd(changed) - (changed.items.data[0]?.current_period_start ?? 0)).toBeGreaterThan(
      364 * DAY,
    );
    const invoice = await stripe.invoices.retrieve(String(changed.latest_invoice));
    expect(invoice.status).toBe('paid');
    expect(invoice.lines.data.at(-1)?.amount).toBe(4990);
  });
});

describe('subscriptions created through the API', () => {
  it('with a payment method: active, with a paid first invoice', async () => {
    const customer = await stripe.customers.create({ email: 'api-sub@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
      default_payment_method: pm.id,
      metadata: { userId: 'u-9' },
    });
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.status).toBe('active');
    expect(sub.metadata).toEqual({ userId: 'u-9' });
    expect(sub.items.data[0]?.id).toMatch(/^si_/);
    const invoice = await stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(invoice.status).toBe('paid');
    expect(invoice.attempt_count).toBe(1);
  });

  it('with a failing card: incomplete with an open invoice, then incomplete_expired after 23 hours', async () => {
    const customer = await stripe.customers.create({ email: 'api-fail@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
      default_payment_method: pm.id,
    });
    expect(sub.status).toBe('incomplete');
    expect((await stripe.invoices.retrieve(String(sub.latest_invoice))).status).toBe('open');
    await expect(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: 'price_tollgate_basic_monthly' }],
        default_payment_method: pm.id,
        payment_behavior: 'error_if_incomplete',
      }),
    ).rejects.toMatchObject({ statusCode: 402, code: 'card_declined' });
    await advance(DAY);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete_expired');
    expect((await stripe.invoices.retrieve(String(sub.latest_invoice))).status).toBe('void');
  });

  it('without any payment method: 400', async () => {
    const customer = await stripe.customers.create({ email: 'api-nopm@example.com' });
    await expect(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: 'price_tollgate_basic_monthly' }],
      }),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/no attached payment source/),
    });
  });
});

describe('billing portal', () => {
  it('its page cancels at period end (flexible mode: cancel_at set) and resumes', async () => {
    const { customer, sub } = await subscribe();
    const portal = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'http://shop.test/account',
    });
    expect(portal.id).toMatch(/^bps_/);
    expect(portal.url.startsWith(`${t.emu.url}/p/session/`)).toBe(true);
    const html = await (await fetch(portal.url)).text();
    expect(html).toContain('Basic');
    expect(html).toContain('Cancel subscription');
    expect(html).toContain('http://shop.test/account');

    const cancel = await fetch(`${portal.url}/subscriptions/${sub.id}/cancel`, {
      method: 'POST',
      redirect: 'manual',
    });
    expect(cancel.status).toBe(303);
    const canceled = await stripe.subscriptions.retrieve(sub.id);
    expect(canceled.cancel_at).toBe(periodEnd(sub));
    expect(canceled.cancel_at_period_end).toBe(false);
    expect(canceled.status).toBe('active');
    expect(await (await fetch(portal.url)).text()).toContain('Renew subscription');

    await fetch(`${portal.url}/subscriptions/${sub.id}/resume`, { method: 'POST', redirect: 'manual' });
    const resumed = await stripe.subscriptions.retrieve(sub.id);
    expect(resumed.cancel_at).toBeNull();
    await t.emu.waitForWebhooks();
    const types = eventsFor(sub.id).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['customer.subscription.updated', 'customer.subscription.updated']);
    expect(receiver.types()).toContain('billing_portal.session.created');
  });
});

describe('test clocks', () => {
  it('renews subscriptions of customers on a clock when the clock advances', async () => {
    const start = Math.floor(Date.UTC(2031, 0, 15) / 1000);
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start, name: 'renewals' });
    expect(clock.id).toMatch(/^clock_/);
    expect(clock.status).toBe('ready');
    const customer = await stripe.customers.create({ email: 'clock@example.com', test_clock: clock.id });
    expect(customer.test_clock).toBe(clock.id);
    expect(customer.created).toBe(start);
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_premium_monthly' }],
      default_payment_method: pm.id,
    });
    expect(sub.start_date).toBe(start);
    expect(periodEnd(sub)).toBe(Math.floor(Date.UTC(2031, 1, 15) / 1000));

    const target = Math.floor(Date.UTC(2031, 3, 16) / 1000);
    const advancing = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: target });
    expect(advancing.status).toBe('advancing');
    const ready = await stripe.testHelpers.testClocks.retrieve(clock.id);
    expect(ready.status).toBe('ready');
    expect(ready.frozen_time).toBe(target);
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => i.billing_reason)).toEqual([
      'subscription_cycle',
      'subscription_cycle',
      'subscription_cycle',
      'subscription_create',
    ]);
    expect(invoices.data.every((i) => i.status === 'paid')).toBe(true);
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]?.current_period_start).toBe(Math.floor(Date.UTC(2031, 3, 15) / 1000));
    const list = await stripe.testHelpers.testClocks.list();
    expect(list.data.some((c) => c.id === clock.id)).toBe(true);
    const del = await stripe.testHelpers.testClocks.del(clock.id);
    expect(del.deleted).toBe(true);
  });
});
