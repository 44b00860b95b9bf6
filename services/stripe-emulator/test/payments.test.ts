/**
 * PaymentIntents, Charges and Refunds behind checkout and invoice payments,
 * their events, and how invoices reach them (`invoice.payments`).
 */
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CARD_CHARGE_FAILS,
  CARD_DECLINED,
  CARD_OK,
  DAY,
  payOnHostedPage,
  Receiver,
  setup,
  type TestEmulator,
} from './helper.js';

let t: TestEmulator;
let stripe: Stripe;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await new Receiver().start();
  t = await setup({ webhookUrl: receiver.url, paymentRetryDays: [1, 2, 3] });
  stripe = t.stripe;
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function now(): Promise<number> {
  return (await t.control<{ now: number }>('GET', '/_emulator/time')).now;
}

async function advance(seconds: number): Promise<void> {
  await t.control('POST', '/_emulator/advance-time', { seconds });
  await t.emu.waitForWebhooks();
}

/** Events about a PaymentIntent, its charges, or an invoice, in the order they were delivered. */
async function eventsAbout(ids: string[]): Promise<Stripe.Event[]> {
  await t.emu.waitForWebhooks();
  return receiver.events().filter((e) => {
    const o = e.data.object as { id?: string; payment_intent?: string | null; invoice?: string | null };
    return [o.id, o.payment_intent, o.invoice].some((x) => typeof x === 'string' && ids.includes(x));
  });
}

async function subscribe(price = 'price_tollgate_basic_monthly') {
  const customer = await stripe.customers.create({ email: `pay-${Math.random()}@example.com` });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    line_items: [{ price, quantity: 1 }],
    success_url: 'http://shop.test/ok',
  });
  expect((await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK })).status).toBe(303);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  const sub = await stripe.subscriptions.retrieve(String(done.subscription));
  return { customer, session: done, sub };
}

async function paymentIntentOf(invoiceId: string): Promise<Stripe.PaymentIntent> {
  const payments = await stripe.invoicePayments.list({ invoice: invoiceId });
  expect(payments.data).toHaveLength(1);
  return stripe.paymentIntents.retrieve(String(payments.data[0]?.payment.payment_intent));
}

async function oneTimePrice(amount: number): Promise<string> {
  const price = await stripe.prices.create({
    product: 'prod_tollgate_basic',
    currency: 'usd',
    unit_amount: amount,
  });
  return price.id;
}

describe('checkout in subscription mode', () => {
  it('charges through a PaymentIntent that the first invoice lists as its payment', async () => {
    const { customer, session, sub } = await subscribe();
    expect(session.payment_intent).toBeNull();
    const invoice = await stripe.invoices.retrieve(String(session.invoice), { expand: ['payments'] });
    const payment = invoice.payments?.data[0];
    expect(payment?.status).toBe('paid');
    expect(payment?.amount_paid).toBe(499);
    expect(payment?.payment.type).toBe('payment_intent');

    const pi = await stripe.paymentIntents.retrieve(String(payment?.payment.payment_intent), {
      expand: ['latest_charge'],
    });
    expect(pi.id).toMatch(/^pi_/);
    expect(pi.status).toBe('succeeded');
    expect(pi.amount).toBe(499);
    expect(pi.amount_received).toBe(499);
    expect(pi.customer).toBe(customer.id);
    expect(pi.description).toBe('Subscription creation');
    expect(pi.payment_method).toBe(sub.default_payment_method);
    const charge = pi.latest_charge as Stripe.Charge;
    expect(charge.id).toMatch(/^ch_/);
    expect(charge).toMatchObject({
      status: 'succeeded',
      paid: true,
      captured: true,
      amount: 499,
      amount_captured: 499,
      refunded: false,
      customer: customer.id,
      payment_intent: pi.id,
      description: 'Subscription creation',
    });
    expect(charge.payment_method_details?.card?.last4).toBe('4242');
    expect(charge.outcome?.type).toBe('authorized');

    const events = await eventsAbout([pi.id, sub.id, invoice.id, session.id]);
    const types = events.map((e) => e.type);
    expect(types.filter((x) => x.startsWith('payment_intent.') || x.startsWith('charge.'))).toEqual([
      'payment_intent.created',
      'payment_intent.succeeded',
      'charge.succeeded',
    ]);
    // The charge comes first, then the subscription and its (already paid) invoice.
    expect(types.indexOf('charge.succeeded')).toBeLessThan(types.indexOf('customer.subscription.created'));
    expect(types.indexOf('invoice.payment_succeeded')).toBeLessThan(types.indexOf('invoice_payment.paid'));
    const created = events.find((e) => e.type === 'payment_intent.created');
    expect((created?.data.object as Stripe.PaymentIntent | undefined)?.status).toBe(
      'requires_payment_method',
    );
    expect(created?.request?.id).toBeNull();
    expect(created?.request?.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('with 4000 0000 0000 0341: payment_intent.payment_failed and charge.failed, no subscription', async () => {
    const customer = await stripe.customers.create({ email: 'declined-sub@example.com' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: 'price_tollgate_premium_monthly', quantity: 1 }],
      success_url: 'http://shop.test/ok',
    });
    expect((await payOnHostedPage(session.url ?? '', { cardNumber: CARD_CHARGE_FAILS })).status).toBe(402);
    const [pi] = (await stripe.paymentIntents.list({ customer: customer.id })).data;
    expect(pi?.status).toBe('requires_payment_method');
    expect(pi?.last_payment_error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
    });
    expect(pi?.last_payment_error?.payment_method?.card?.last4).toBe('0341');
    const charges = await stripe.charges.list({ customer: customer.id });
    expect(charges.data.map((c) => [c.status, c.failure_code, c.paid])).toEqual([
      ['failed', 'card_declined', false],
    ]);
    expect((await eventsAbout([pi?.id ?? ''])).map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.payment_failed',
      'charge.failed',
    ]);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_intent).toBeNull();
  });
});

describe('checkout in payment mode', () => {
  it('creates no customer by default (customer_creation if_required) and links the PaymentIntent', async () => {
    const price = await oneTimePrice(1500);
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price, quantity: 2 }],
      payment_intent_data: { description: 'Two passes', metadata: { order: 'o-1' } },
      success_url: 'http://shop.test/paid',
    });
    expect(session.customer_creation).toBe('if_required');
    const before = (await stripe.customers.list({ limit: 100 })).data.length;
    const res = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK, email: 'guest@example.com' });
    expect(res.status).toBe(303);

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
    expect(done.status).toBe('complete');
    expect(done.payment_status).toBe('paid');
    expect(done.customer).toBeNull();
    expect(done.customer_details?.email).toBe('guest@example.com');
    expect((await stripe.customers.list({ limit: 100 })).data).toHaveLength(before);
    const pi = done.payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      amount: 3000,
      amount_received: 3000,
      customer: null,
      description: 'Two passes',
      metadata: { order: 'o-1' },
    });
    const charge = await stripe.charges.retrieve(String(pi.latest_charge));
    expect(charge.billing_details.email).toBe('guest@example.com');
    expect(charge.metadata).toEqual({ order: 'o-1' });
    const types = (await eventsAbout([pi.id, session.id])).map((e) => e.type);
    expect(types).toEqual([
      'payment_intent.created',
      'payment_intent.succeeded',
      'charge.succeeded',
      'checkout.session.completed',
    ]);
  });

  it('creates a customer with customer_creation always, without saving the card', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      customer_creation: 'always',
      line_items: [{ price: await oneTimePrice(700), quantity: 1 }],
      success_url: 'http://shop.test/paid',
    });
    expect(session.customer_creation).toBe('always');
    await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK, email: 'always@example.com' });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.customer).toMatch(/^cus_/);
    const pi = await stripe.paymentIntents.retrieve(String(done.payment_intent));
    expect(pi.customer).toBe(done.customer);
    expect((await stripe.paymentMethods.list({ customer: String(done.customer) })).data).toHaveLength(0);
  });

  it('saves the card on a new customer when the payment is set up for future use', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: await oneTimePrice(700), quantity: 1 }],
      payment_intent_data: { setup_future_usage: 'off_session' },
      success_url: 'http://shop.test/paid',
    });
    await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK, email: 'saved@example.com' });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.customer).toMatch(/^cus_/);
    expect((await stripe.paymentMethods.list({ customer: String(done.customer) })).data).toHaveLength(1);
  });

  it('rejects customer_creation and payment_intent_data in subscription mode', async () => {
    const base = {
      mode: 'subscription' as const,
      line_items: [{ price: 'price_tollgate_basic_monthly', quantity: 1 }],
      success_url: 'http://shop.test/ok',
    };
    await expect(
      stripe.checkout.sessions.create({ ...base, customer_creation: 'always' }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'customer_creation' });
    await expect(
      stripe.checkout.sessions.create({ ...base, payment_intent_data: { description: 'x' } }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'payment_intent_data' });
  });

  it('with 4000 0000 0000 0002: the PaymentIntent fails, and succeeds when the session is retried', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: await oneTimePrice(900), quantity: 1 }],
      success_url: 'http://shop.test/paid',
    });
    const declined = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_DECLINED });
    expect(declined.status).toBe(402);
    const open = await stripe.checkout.sessions.retrieve(session.id);
    expect(open.status).toBe('open');
    const piId = String(open.payment_intent);
    const failed = await stripe.paymentIntents.retrieve(piId);
    expect(failed.status).toBe('requires_payment_method');
    expect(failed.last_payment_error?.code).toBe('card_declined');
    expect(failed.last_payment_error?.charge).toMatch(/^ch_/);

    expect((await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK })).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.payment_intent).toBe(piId);
    const pi = await stripe.paymentIntents.retrieve(piId);
    expect(pi.status).toBe('succeeded');
    expect(pi.last_payment_error).toBeNull();
    const charges = await stripe.charges.list({ payment_intent: piId });
    expect(charges.data.map((c) => c.status)).toEqual(['succeeded', 'failed']);
    expect(pi.latest_charge).toBe(charges.data[0]?.id);
    expect((await eventsAbout([piId])).map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.payment_failed',
      'charge.failed',
      'payment_intent.succeeded',
      'charge.succeeded',
      'checkout.session.completed',
    ]);
  });
});

describe('invoice payments', () => {
  it('a renewal is collected by a new PaymentIntent before invoice.paid', async () => {
    const { sub } = await subscribe();
    const end = sub.items.data[0]?.current_period_end ?? 0;
    await advance(end - (await now()) + 2 * 3600);
    const renewal = (await stripe.invoices.list({ subscription: sub.id })).data[0] as Stripe.Invoice;
    expect(renewal.billing_reason).toBe('subscription_cycle');
    const pi = await paymentIntentOf(renewal.id);
    expect(pi.status).toBe('succeeded');
    expect(pi.description).toBe('Subscription update');
    expect(pi.amount).toBe(renewal.amount_paid);
    const types = (await eventsAbout([pi.id, renewal.id])).map((e) => e.type);
    expect(types).toEqual([
      'invoice.created',
      'invoice.finalized',
      'payment_intent.created',
      'payment_intent.succeeded',
      'charge.succeeded',
      'invoice.paid',
      'invoice.payment_succeeded',
      'invoice_payment.paid',
    ]);
  });

  it('a failing renewal: one PaymentIntent, a failed charge per attempt, then paid with another card', async () => {
    const { customer, sub } = await subscribe();
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    const end = sub.items.data[0]?.current_period_end ?? 0;
    await advance(end - (await now()) + 2 * 3600);
    const invoice = (await stripe.invoices.list({ subscription: sub.id })).data[0] as Stripe.Invoice;
    expect(invoice.status).toBe('open');
    const pi = await paymentIntentOf(invoice.id);
    expect(pi.status).toBe('requires_payment_method');
    expect((await stripe.invoicePayments.list({ invoice: invoice.id })).data[0]?.status).toBe('open');
    expect((await eventsAbout([pi.id, invoice.id])).map((e) => e.type)).toEqual([
      'invoice.created',
      'invoice.finalized',
      'payment_intent.created',
      'payment_intent.payment_failed',
      'charge.failed',
      'invoice.payment_failed',
      'invoice.updated',
    ]);

    await advance(DAY + 60);
    expect((await eventsAbout([pi.id, invoice.id])).map((e) => e.type).slice(7)).toEqual([
      'payment_intent.payment_failed',
      'charge.failed',
      'invoice.payment_failed',
      'invoice.updated',
    ]);
    const failedCharges = await stripe.charges.list({ payment_intent: pi.id });
    expect(failedCharges.data.map((c) => c.status)).toEqual(['failed', 'failed']);

    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: visa.id });
    await stripe.invoices.pay(invoice.id);
    const paid = await stripe.paymentIntents.retrieve(pi.id);
    expect(paid.status).toBe('succeeded');
    expect(paid.payment_method).toBe(visa.id);
    expect((await stripe.charges.list({ payment_intent: pi.id })).data.map((c) => c.status)).toEqual([
      'succeeded',
      'failed',
      'failed',
    ]);
    const payment = (await stripe.invoicePayments.list({ invoice: invoice.id })).data[0];
    expect(payment?.status).toBe('paid');
    expect(payment?.status_transitions.paid_at).not.toBeNull();
    expect((await stripe.invoicePayments.retrieve(String(payment?.id))).invoice).toBe(invoice.id);
  });

  it('lists PaymentIntents and charges by customer, with auto-pagination', async () => {
    const { customer } = await subscribe();
    const pis = await stripe.paymentIntents.list({ customer: customer.id }).autoPagingToArray({ limit: 10 });
    expect(pis).toHaveLength(1);
    const all = await stripe.charges.list({ limit: 1 }).autoPagingToArray({ limit: 1000 });
    expect(all.length).toBeGreaterThan(3);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
  });
});

describe('refunds', () => {
  it("refunds the latest invoice's payment in part, then in full", async () => {
    const { customer, sub } = await subscribe('price_tollgate_premium_monthly');
    const pi = await paymentIntentOf(String(sub.latest_invoice));
    const partial = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 200, reason: 'requested_by_customer', metadata: { ticket: 't-1' } },
      { idempotencyKey: `refund-${pi.id}` },
    );
    expect(partial).toMatchObject({
      object: 'refund',
      amount: 200,
      status: 'succeeded',
      charge: pi.latest_charge,
      payment_intent: pi.id,
      customer: customer.id,
      reason: 'requested_by_customer',
      metadata: { ticket: 't-1' },
    });
    expect(partial.id).toMatch(/^re_/);
    let charge = await stripe.charges.retrieve(String(pi.latest_charge));
    expect(charge.amount_refunded).toBe(200);
    expect(charge.refunded).toBe(false);

    const rest = await stripe.refunds.create({ charge: charge.id });
    expect(rest.amount).toBe(999 - 200);
    charge = await stripe.charges.retrieve(charge.id, { expand: ['refunds'] });
    expect(charge.amount_refunded).toBe(999);
    expect(charge.refunded).toBe(true);
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([rest.id, partial.id]);
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data).toHaveLength(2);
    expect((await stripe.refunds.retrieve(partial.id)).amount).toBe(200);
    // Refunding a charge does not change its invoice.
    expect((await stripe.invoices.retrieve(String(sub.latest_invoice))).status).toBe('paid');

    const events = (await eventsAbout([charge.id, partial.id, rest.id])).filter((e) =>
      ['charge.refunded', 'refund.created'].includes(e.type),
    );
    expect(events.map((e) => e.type)).toEqual([
      'charge.refunded',
      'refund.created',
      'charge.refunded',
      'refund.created',
    ]);
    expect(events[1]?.request?.idempotency_key).toBe(`refund-${pi.id}`);
    expect(events[1]?.request?.id).toMatch(/^req_/);
    expect((events[2]?.data.object as Stripe.Charge | undefined)?.refunded).toBe(true);

    await expect(stripe.refunds.create({ charge: charge.id })).rejects.toMatchObject({
      statusCode: 400,
      code: 'charge_already_refunded',
    });
  });

  it('rejects what Stripe rejects', async () => {
    const { sub } = await subscribe();
    const pi = await paymentIntentOf(String(sub.latest_invoice));
    await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 100_000 })).rejects.toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount',
    });
    await expect(stripe.refunds.create({})).rejects.toMatchObject({ statusCode: 400 });
    await expect(stripe.refunds.create({ charge: 'ch_missing' })).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'charge',
    });
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({ statusCode: 404 });

    const customer = await stripe.customers.create({ email: 'refund-declined@example.com' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: 'price_tollgate_basic_monthly', quantity: 1 }],
      success_url: 'http://shop.test/ok',
    });
    await payOnHostedPage(session.url ?? '', { cardNumber: CARD_DECLINED });
    const [declined] = (await stripe.paymentIntents.list({ customer: customer.id })).data;
    await expect(stripe.refunds.create({ payment_intent: String(declined?.id) })).rejects.toMatchObject({
      statusCode: 400,
      code: 'charge_not_refundable',
    });
    await expect(stripe.refunds.create({ charge: String(declined?.latest_charge) })).rejects.toMatchObject({
      statusCode: 400,
      code: 'charge_not_refundable',
    });
  });
});
