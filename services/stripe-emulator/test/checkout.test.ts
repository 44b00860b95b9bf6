import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CARD_CHARGE_FAILS,
  CARD_DECLINED,
  CARD_OK,
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
  t = await setup({ webhookUrl: receiver.url });
  stripe = t.stripe;
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function newSession(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  const customer = await stripe.customers.create({
    email: `buyer-${Date.now()}-${Math.random()}@example.com`,
  });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    client_reference_id: 'user-42',
    metadata: { userId: 'user-42' },
    line_items: [{ price: 'price_tollgate_premium_monthly', quantity: 1 }],
    success_url: 'http://shop.test/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://shop.test/cancel',
    ...extra,
  });
  return { customer, session };
}

describe('checkout session API', () => {
  it('creates an open session whose url is the hosted page', async () => {
    const { customer, session } = await newSession();
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.status).toBe('open');
    expect(session.payment_status).toBe('unpaid');
    expect(session.customer).toBe(customer.id);
    expect(session.client_reference_id).toBe('user-42');
    expect(session.amount_total).toBe(999);
    expect(session.url).toBe(`${t.emu.url}/c/pay/${session.id}`);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data[0]?.price?.id).toBe('price_tollgate_premium_monthly');
    const listed = await stripe.checkout.sessions.list({ customer: customer.id });
    expect(listed.data.map((s) => s.id)).toEqual([session.id]);
  });

  it('rejects a one-time price in subscription mode and a missing success_url', async () => {
    const oneTime = await stripe.prices.create({
      product: 'prod_tollgate_basic',
      currency: 'usd',
      unit_amount: 300,
    });
    await expect(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: oneTime.id, quantity: 1 }],
        success_url: 'http://shop.test/s',
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'line_items[0][price]' });
    await expect(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: 'price_tollgate_basic_monthly' }],
      }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'success_url' });
  });

  it('expires an open session', async () => {
    const { session } = await newSession();
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired.status).toBe('expired');
    expect(expired.url).toBeNull();
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400 });
  });
});

describe('hosted checkout page', () => {
  it('shows the product, the price and the inputs Stripe uses', async () => {
    const { session } = await newSession();
    const res = await fetch(session.url ?? '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('Premium');
    expect(html).toContain('$9.99');
    for (const name of ['email', 'cardNumber', 'cardExpiry', 'cardCvc', 'billingName']) {
      expect(html).toContain(`name="${name}"`);
    }
    expect(html).toMatch(/<button type="submit">Subscribe<\/button>/);
  });

  it('with 4242: creates an active subscription and a paid invoice, completes the session and redirects', async () => {
    const { customer, session } = await newSession();
    const res = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`http://shop.test/success?session_id=${session.id}`);

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription', 'invoice'] });
    expect(done.status).toBe('complete');
    expect(done.payment_status).toBe('paid');
    const sub = done.subscription as Stripe.Subscription;
    const invoice = done.invoice as Stripe.Invoice;
    expect(sub.status).toBe('active');
    expect(sub.customer).toBe(customer.id);
    const item = sub.items.data[0];
    expect(item?.price.id).toBe('price_tollgate_premium_monthly');
    expect(item?.current_period_start).toBe(sub.created);
    const start = new Date((item?.current_period_start ?? 0) * 1000);
    const end = new Date((item?.current_period_end ?? 0) * 1000);
    expect((end.getUTCMonth() - start.getUTCMonth() + 12) % 12).toBe(1);
    expect(sub.latest_invoice).toBe(invoice.id);
    expect(typeof sub.default_payment_method).toBe('string');
    expect(invoice.status).toBe('paid');
    expect(invoice.amount_paid).toBe(999);
    expect(invoice.billing_reason).toBe('subscription_create');
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(invoice.lines.data[0]?.period).toEqual({
      start: item?.current_period_start,
      end: item?.current_period_end,
    });
    const updatedCustomer = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(updatedCustomer.currency).toBe('usd');

    const page = await fetch(session.url ?? '');
    expect(await page.text()).toContain('complete');
  });

  it('with 4000 0000 0000 0002: shows the decline, keeps the session open, creates nothing', async () => {
    const { customer, session } = await newSession();
    const res = await payOnHostedPage(session.url ?? '', {
      cardNumber: CARD_DECLINED,
      billingName: 'Ada <L>',
    });
    expect(res.status).toBe(402);
    const text = await res.text();
    expect(text).toContain('Your card was declined.');
    // What the buyer typed stays (escaped), except the card.
    expect(text).toMatch(/<input name="billingName"[^>]* value="Ada &lt;L&gt;">/);
    expect(text).toMatch(/<input name="cardNumber"(?![^>]*value=)[^>]*>/);
    const still = await stripe.checkout.sessions.retrieve(session.id);
    expect(still.status).toBe('open');
    expect(still.payment_status).toBe('unpaid');
    expect(still.subscription).toBeNull();
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toHaveLength(0);

    // The session can be retried with a working card.
    const retry = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
    expect(retry.status).toBe(303);
  });

  it('with 4000 0000 0000 0341: declined at checkout too', async () => {
    const { customer, session } = await newSession();
    const res = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_CHARGE_FAILS });
    expect(res.status).toBe(402);
    expect(await res.text()).toContain('Your card was declined.');
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
  });

  it('rejects invalid card details with a message', async () => {
    const { session } = await newSession();
    const bad = await payOnHostedPage(session.url ?? '', { cardNumber: '4242 4242 4242 4241' });
    expect(bad.status).toBe(402);
    expect(await bad.text()).toContain('Your card number is invalid.');
    const expired = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK, cardExpiry: '01 / 20' });
    expect(await expired.text()).toContain('expiration year is in the past');
  });

  it('with customer_email and no customer: creates the customer at payment', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer_email: 'fresh@example.com',
      line_items: [{ price: 'price_tollgate_basic_yearly', quantity: 1 }],
      success_url: 'http://shop.test/success',
    });
    expect(session.customer).toBeNull();
    const res = await payOnHostedPage(session.url ?? '', {
      cardNumber: CARD_OK,
      email: 'ignored@example.com',
    });
    expect(res.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.customer).toMatch(/^cus_/);
    expect(done.customer_details?.email).toBe('fresh@example.com');
    const customer = (await stripe.customers.retrieve(String(done.customer))) as Stripe.Customer;
    expect(customer.email).toBe('fresh@example.com');
  });

  it('in payment mode: completes with a payment intent and no subscription', async () => {
    const price = await stripe.prices.create({
      product: 'prod_tollgate_basic',
      currency: 'usd',
      unit_amount: 1200,
    });
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: price.id, quantity: 2 }],
      success_url: 'http://shop.test/paid',
    });
    expect(session.amount_total).toBe(2400);
    const res = await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
    expect(res.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.status).toBe('complete');
    expect(done.subscription).toBeNull();
    expect(done.payment_intent).toMatch(/^pi_/);
  });

  it('sends the checkout events, signed, with envelopes as Stripe sends them', async () => {
    const { session } = await newSession();
    await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
    await t.emu.waitForWebhooks();
    const events = receiver.events();
    const completed = events.find(
      (e) =>
        e.type === 'checkout.session.completed' &&
        (e.data.object as Stripe.Checkout.Session).id === session.id,
    );
    expect(completed).toBeDefined();
    expect(completed?.request).toEqual({ id: null, idempotency_key: null });
    expect(completed?.api_version).toBe('2026-10-28.endive');
    expect(completed?.pending_webhooks).toBe(1);
    const obj = completed?.data.object as Stripe.Checkout.Session;
    expect(obj.subscription).toMatch(/^sub_/);
    expect(obj.invoice).toMatch(/^in_/);
    const subId = obj.subscription as string;
    const forSub = events.filter((e) => {
      const o = e.data.object as { id?: string; subscription?: string; parent?: Stripe.Invoice['parent'] };
      return o.id === subId || o.parent?.subscription_details?.subscription === subId;
    });
    expect(forSub.map((e) => e.type)).toEqual([
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    const created = forSub[0];
    expect(created?.request?.id).toBeNull();
    expect(created?.request?.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    expect((created!.data.object as Stripe.Subscription).status).toBe('active');
    const customerUpdated = events.find(
      (e) => e.type === 'customer.updated' && (e.data.object as Stripe.Customer).id === obj.customer,
    );
    expect(customerUpdated?.data.previous_attributes).toEqual({ currency: null });
  });
});
