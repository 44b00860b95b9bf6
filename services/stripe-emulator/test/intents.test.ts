/**
 * PaymentIntents, SetupIntents and PaymentMethods through the official SDK,
 * with Stripe's test payment method ids (`pm_card_visa`, ...) wherever Stripe
 * accepts them.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsDuring as eventsDuringOf, Receiver, setup, stripeError, type TestEmulator } from './helper.js';

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

/** Event types delivered while `fn` runs. */
const eventsDuring = async (fn: () => Promise<unknown>) =>
  (await eventsDuringOf(t, receiver, fn)).map((e) => e.type);

describe('test payment method ids', () => {
  it('customer create attaches payment_method and sets the same magic id as default', async () => {
    let customer = {} as Stripe.Customer;
    const types = await eventsDuring(async () => {
      customer = await stripe.customers.create({
        payment_method: 'pm_card_visa',
        invoice_settings: { default_payment_method: 'pm_card_visa' },
      });
    });
    // Born with its default, as on Stripe: no customer.updated.
    expect(types).toEqual(['customer.created', 'payment_method.attached']);
    const pms = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(pms.data).toHaveLength(1);
    const pm = pms.data[0] as Stripe.PaymentMethod;
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.id).not.toBe('pm_card_visa');
    expect(customer.invoice_settings.default_payment_method).toBe(pm.id);
    const one = await stripe.customers.retrievePaymentMethod(customer.id, pm.id);
    expect(one.card?.last4).toBe('4242');
  });

  it('a card that fails the attach check fails the customer create, creating nothing', async () => {
    const before = (await stripe.customers.list({ limit: 100 })).data.length;
    const err = await stripeError(
      stripe.customers.create({ email: 'declined@example.com', payment_method: 'pm_card_chargeDeclined' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((await stripe.customers.list({ limit: 100 })).data.length).toBe(before);
  });

  it('subscriptions.create takes a magic default_payment_method and charges it', async () => {
    const customer = await stripe.customers.create({ email: 'magic-sub@example.com' });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
      default_payment_method: 'pm_card_mastercard',
    });
    expect(sub.status).toBe('active');
    const pm = await stripe.paymentMethods.retrieve(String(sub.default_payment_method));
    expect(pm.card?.brand).toBe('mastercard');
    expect(pm.customer).toBe(customer.id);
  });

  it('rejects a payment method the customer does not have, as Stripe does', async () => {
    const other = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const pms = await stripe.paymentMethods.list({ customer: other.id });
    const customer = await stripe.customers.create({});
    const err = await stripeError(
      stripe.customers.update(customer.id, {
        invoice_settings: { default_payment_method: pms.data[0]?.id ?? '' },
      }),
    );
    expect(err.statusCode).toBe(400);
    expect(err.param).toBe('invoice_settings[default_payment_method]');
  });

  it('creates card payment methods from test tokens and numbers, and updates them', async () => {
    const fromToken = await stripe.paymentMethods.create({
      type: 'card',
      card: { token: 'tok_mastercard' },
      billing_details: { email: 'pm@example.com', name: 'Jenny Rosen', address: { country: 'US' } },
    });
    expect(fromToken.card?.brand).toBe('mastercard');
    expect(fromToken.billing_details.email).toBe('pm@example.com');
    expect(fromToken.billing_details.address?.country).toBe('US');
    const fromNumber = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 12, exp_year: 2034, cvc: '123' },
    } as Stripe.PaymentMethodCreateParams);
    expect(fromNumber.card?.exp_year).toBe(2034);
    const customer = await stripe.customers.create({});
    await stripe.paymentMethods.attach(fromNumber.id, { customer: customer.id });
    const types = await eventsDuring(() =>
      stripe.paymentMethods.update(fromNumber.id, { metadata: { nickname: 'work' } }),
    );
    expect(types).toEqual(['payment_method.updated']);
    expect((await stripe.paymentMethods.retrieve(fromNumber.id)).metadata).toEqual({ nickname: 'work' });
    const bad = await stripeError(
      stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_nope' } }),
    );
    expect(bad.statusCode).toBe(404);
  });
});

describe('PaymentIntents', () => {
  it('create without confirm waits for a payment method; confirm charges it', async () => {
    const types = await eventsDuring(async () => {
      const pi = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', description: 'x' });
      expect(pi.status).toBe('requires_payment_method');
      expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
      const updated = await stripe.paymentIntents.update(pi.id, { amount: 2500, metadata: { order: '7' } });
      expect(updated.amount).toBe(2500);
      const confirmed = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
      expect(confirmed.status).toBe('succeeded');
      expect(confirmed.amount_received).toBe(2500);
      const charge = await stripe.charges.retrieve(String(confirmed.latest_charge));
      expect(charge.amount).toBe(2500);
      expect(charge.metadata).toEqual({ order: '7' });
    });
    expect(types).toEqual(['payment_intent.created', 'payment_intent.succeeded', 'charge.succeeded']);
  });

  it('a declined confirm answers 402 with the PaymentIntent, after the failure events', async () => {
    let err: Stripe.errors.StripeError | undefined;
    const types = await eventsDuring(async () => {
      err = await stripeError(
        stripe.paymentIntents.create({
          amount: 2000,
          currency: 'usd',
          payment_method: 'pm_card_chargeDeclined',
          confirm: true,
        }),
      );
    });
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err?.code).toBe('card_declined');
    const pi = (err?.raw as { payment_intent?: Stripe.PaymentIntent } | undefined)?.payment_intent;
    expect(pi?.status).toBe('requires_payment_method');
    expect(pi?.last_payment_error?.decline_code).toBe('generic_decline');
    expect(types).toEqual(['payment_intent.created', 'payment_intent.payment_failed', 'charge.failed']);
  });

  it('manual capture: authorized, then captured in part', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3000,
      currency: 'usd',
      capture_method: 'manual',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(pi.status).toBe('requires_capture');
    expect(pi.amount_capturable).toBe(3000);
    const types = await eventsDuring(async () => {
      const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 2000 });
      expect(captured.status).toBe('succeeded');
      expect(captured.amount_received).toBe(2000);
    });
    expect(types).toEqual(['charge.captured', 'payment_intent.succeeded']);
    const charge = await stripe.charges.retrieve(String(pi.latest_charge));
    expect(charge.captured).toBe(true);
    expect(charge.amount_captured).toBe(2000);
  });

  it('cancel, and Stripe’s state errors', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const canceled = await stripe.paymentIntents.cancel(pi.id, {
      cancellation_reason: 'requested_by_customer',
    });
    expect(canceled.status).toBe('canceled');
    expect(canceled.cancellation_reason).toBe('requested_by_customer');
    const again = await stripeError(stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }));
    expect(again.code).toBe('payment_intent_unexpected_state');
    const noPm = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const missing = await stripeError(stripe.paymentIntents.confirm(noPm.id));
    expect(missing.code).toBe('payment_intent_unexpected_state');
  });

  it('saves the card to the customer with setup_future_usage, and lists by customer', async () => {
    const customer = await stripe.customers.create({});
    const pi = await stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      customer: customer.id,
      setup_future_usage: 'off_session',
      payment_method: 'pm_card_visa',
      confirm: true,
      shipping: { name: 'Jenny Rosen', address: { line1: '510 Townsend St', country: 'US' } },
    });
    expect(pi.shipping?.name).toBe('Jenny Rosen');
    const pm = await stripe.paymentMethods.retrieve(String(pi.payment_method));
    expect(pm.customer).toBe(customer.id);
    const listed = await stripe.paymentIntents.list({ customer: customer.id });
    expect(listed.data.map((x) => x.id)).toEqual([pi.id]);
  });

  it('refunds take metadata updates', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 800,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    const types = await eventsDuring(async () => {
      const updated = await stripe.refunds.update(refund.id, { metadata: { ticket: '42' } });
      expect(updated.metadata).toEqual({ ticket: '42' });
    });
    expect(types).toEqual(['refund.updated']);
  });
});

describe('SetupIntents', () => {
  it('create + confirm attaches the card to the customer', async () => {
    const customer = await stripe.customers.create({});
    const types = await eventsDuring(async () => {
      const si = await stripe.setupIntents.create({ customer: customer.id });
      expect(si.status).toBe('requires_payment_method');
      const confirmed = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' });
      expect(confirmed.status).toBe('succeeded');
      const pm = await stripe.paymentMethods.retrieve(String(confirmed.payment_method));
      expect(pm.customer).toBe(customer.id);
      expect((await stripe.setupIntents.retrieve(si.id)).status).toBe('succeeded');
    });
    expect(types).toEqual(['setup_intent.created', 'payment_method.attached', 'setup_intent.succeeded']);
    const listed = await stripe.setupIntents.list({ customer: customer.id });
    expect(listed.data).toHaveLength(1);
  });

  it('a declining card fails the setup with 402 and setup_intent.setup_failed', async () => {
    let err: Stripe.errors.StripeError | undefined;
    const types = await eventsDuring(async () => {
      err = await stripeError(
        stripe.setupIntents.create({ payment_method: 'pm_card_chargeDeclined', confirm: true }),
      );
    });
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(types).toEqual(['setup_intent.created', 'setup_intent.setup_failed']);
  });

  it('cancel', async () => {
    const si = await stripe.setupIntents.create({});
    const canceled = await stripe.setupIntents.cancel(si.id, { cancellation_reason: 'abandoned' });
    expect(canceled.status).toBe('canceled');
  });
});

describe('plans', () => {
  it('serves recurring prices as plans', async () => {
    const plan = await stripe.plans.retrieve('price_tollgate_basic_monthly');
    expect(plan.object).toBe('plan');
    expect(plan.amount).toBe(499);
    expect(plan.interval).toBe('month');
    const list = await stripe.plans.list({ product: 'prod_tollgate_premium' });
    expect(list.data.map((p) => p.id).sort()).toEqual([
      'price_tollgate_premium_monthly',
      'price_tollgate_premium_yearly',
    ]);
  });
});
