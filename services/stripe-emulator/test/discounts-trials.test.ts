/**
 * Coupons, promotion codes and the discounts they make (Checkout,
 * subscriptions, invoices); trials (subscriptions and Checkout, with
 * `trial_will_end` and the end of the trial on a test clock); Checkout's
 * `mode=payment` with `price_data`, and `ui_mode`.
 */
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CARD_OK,
  DAY,
  eventsDuring as eventsDuringOf,
  payOnHostedPage,
  Receiver,
  setup,
  stripeError,
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

/** Webhook events delivered while `fn` runs. */
const eventsDuring = (fn: () => Promise<unknown>) => eventsDuringOf(t, receiver, fn);

async function customerWithCard(extra: Stripe.CustomerCreateParams = {}): Promise<Stripe.Customer> {
  return stripe.customers.create({
    payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
    ...extra,
  });
}

describe('coupons and promotion codes', () => {
  it('CRUD with their events', async () => {
    const events = await eventsDuring(async () => {
      const coupon = await stripe.coupons.create({ percent_off: 20, duration: 'once', name: 'Twenty' });
      expect(coupon.valid).toBe(true);
      expect((await stripe.coupons.update(coupon.id, { name: 'Twenty!' })).name).toBe('Twenty!');
      expect((await stripe.coupons.list()).data.map((c) => c.id)).toContain(coupon.id);
      const promo = await stripe.promotionCodes.create({
        promotion: { type: 'coupon', coupon: coupon.id },
        code: 'TWENTY',
      });
      expect(promo.promotion.coupon).toBe(coupon.id);
      expect((await stripe.promotionCodes.list({ code: 'twenty' })).data.map((p) => p.id)).toEqual([
        promo.id,
      ]);
      expect((await stripe.promotionCodes.update(promo.id, { active: false })).active).toBe(false);
      expect((await stripe.coupons.del(coupon.id)).deleted).toBe(true);
    });
    expect(events.map((e) => e.type)).toEqual([
      'coupon.created',
      'coupon.updated',
      'promotion_code.created',
      'promotion_code.updated',
      'coupon.deleted',
    ]);
    const bad = await stripeError(stripe.coupons.create({ duration: 'once' }));
    expect(bad.statusCode).toBe(400);
  });

  it('a repeating coupon discounts the subscription’s invoices for its months, then stops', async () => {
    const coupon = await stripe.coupons.create({
      percent_off: 25,
      duration: 'repeating',
      duration_in_months: 2,
    });
    const customer = await customerWithCard();
    let sub = {} as Stripe.Subscription;
    const created = await eventsDuring(async () => {
      sub = await stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: 'price_tollgate_basic_monthly' }],
        discounts: [{ coupon: coupon.id }],
      });
    });
    expect(sub.discounts).toHaveLength(1);
    const announced = created.find((e) => e.type === 'customer.discount.created')?.data
      .object as Stripe.Discount;
    expect(announced.id).toBe(sub.discounts[0]);
    expect(announced.subscription).toBe(sub.id);
    expect(announced.end).toBeGreaterThan(sub.created + 58 * DAY);
    const first = await stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(first.subtotal).toBe(499);
    expect(first.total).toBe(374);
    expect(first.amount_paid).toBe(374);
    expect(first.total_discount_amounts?.[0]?.amount).toBe(125);
    expect(first.lines.data[0]?.discount_amounts?.[0]?.amount).toBe(125);
    const totals: number[] = [];
    const ended: string[] = [];
    for (let m = 0; m < 3; m++) {
      const events = await eventsDuring(() =>
        t.control('POST', '/_emulator/advance-time', { seconds: 31 * DAY + 7200 }),
      );
      for (const e of events) if (e.type === 'customer.discount.deleted') ended.push(String(m));
      const latest = await stripe.subscriptions.retrieve(sub.id);
      totals.push((await stripe.invoices.retrieve(String(latest.latest_invoice))).total);
    }
    expect(totals).toEqual([374, 499, 499]);
    // It comes off at the first invoice after its two months.
    expect(ended).toEqual(['1']);
    expect((await stripe.subscriptions.retrieve(sub.id)).discounts).toEqual([]);
    expect((await stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1);
  });

  it('Checkout `discounts` with a promotion code lowers what is charged and stays on the subscription', async () => {
    const coupon = await stripe.coupons.create({ amount_off: 100, currency: 'usd', duration: 'forever' });
    const promo = await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id } });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: 'price_tollgate_basic_monthly', quantity: 1 }],
      discounts: [{ promotion_code: promo.id }],
      success_url: 'http://shop.test/ok',
    });
    expect(session.amount_subtotal).toBe(499);
    expect(session.amount_total).toBe(399);
    expect(session.total_details?.amount_discount).toBe(100);
    await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    const invoice = await stripe.invoices.retrieve(String(done.invoice));
    expect(invoice.amount_paid).toBe(399);
    const [payment] = (await stripe.invoicePayments.list({ invoice: invoice.id })).data;
    expect((await stripe.paymentIntents.retrieve(String(payment?.payment.payment_intent))).amount).toBe(399);
    const sub = await stripe.subscriptions.retrieve(String(done.subscription));
    expect(sub.discounts).toHaveLength(1);
    expect((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);
  });

  it('allow_promotion_codes: the buyer types a code on the hosted page', async () => {
    const coupon = await stripe.coupons.create({ percent_off: 50, duration: 'once' });
    await stripe.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'HALF' });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: 'price_tollgate_premium_monthly', quantity: 1 }],
      allow_promotion_codes: true,
      success_url: 'http://shop.test/ok',
    });
    const pageHtml = await (await fetch(session.url ?? '')).text();
    expect(pageHtml).toContain('name="promotionCode"');
    const res = await fetch(session.url ?? '', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        email: 'half@example.com',
        cardNumber: CARD_OK,
        cardExpiry: '12 / 34',
        cardCvc: '123',
        billingName: 'Half',
        promotionCode: 'half',
      }),
    });
    expect(res.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id);
    // 50% of 9.99: Stripe rounds the discount (4.995 -> 5.00), not the total.
    expect(done.amount_total).toBe(499);
    const invoice = await stripe.invoices.retrieve(String(done.invoice));
    expect(invoice.amount_paid).toBe(499);
    // A `once` coupon is used up by the first invoice.
    expect((await stripe.subscriptions.retrieve(String(done.subscription))).discounts).toEqual([]);
    const both = await stripeError(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: 'price_tollgate_premium_monthly', quantity: 1 }],
        allow_promotion_codes: true,
        discounts: [{ coupon: coupon.id }],
        success_url: 'http://shop.test/ok',
      }),
    );
    expect(both.param).toBe('allow_promotion_codes');
  });
});

describe('trials', () => {
  it('trial_period_days: trialing, a 0 invoice, trial_will_end 3 days before, active and charged at the end (test clock)', async () => {
    const start = 1_900_000_000;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
    const customer = await customerWithCard({ test_clock: clock.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
      trial_period_days: 7,
    });
    expect(sub.status).toBe('trialing');
    expect(sub.trial_start).toBe(start);
    expect(sub.trial_end).toBe(start + 7 * DAY);
    expect(sub.items.data[0]?.current_period_end).toBe(start + 7 * DAY);
    const first = await stripe.invoices.retrieve(String(sub.latest_invoice));
    expect(first.status).toBe('paid');
    expect(first.amount_due).toBe(0);
    expect(first.lines.data[0]?.description).toContain('Trial period');

    const notice = await eventsDuring(() =>
      stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 4 * DAY + 60 }),
    );
    const willEnd = notice.find((e) => e.type === 'customer.subscription.trial_will_end');
    expect(willEnd?.created).toBe(start + 4 * DAY);

    const end = await eventsDuring(() =>
      stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 7 * DAY + 7200 }),
    );
    const types = end.map((e) => e.type);
    expect(types).toContain('invoice.paid');
    expect(types).not.toContain('customer.subscription.trial_will_end');
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after.status).toBe('active');
    expect(after.items.data[0]?.current_period_start).toBe(start + 7 * DAY);
    const renewal = await stripe.invoices.retrieve(String(after.latest_invoice));
    expect(renewal.amount_paid).toBe(499);
  });

  it('a trial without a working card ends past_due', async () => {
    const customer = await stripe.customers.create({});
    await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
      trial_end: (await t.control<{ now: number }>('GET', '/_emulator/time')).now + 2 * DAY,
      default_payment_method: (await stripe.paymentMethods.list({ customer: customer.id })).data[0]?.id,
    });
    expect(sub.status).toBe('trialing');
    await t.control('POST', '/_emulator/advance-time', { seconds: 2 * DAY + 7200 });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
  });

  it('Checkout subscription_data[trial_period_days]: nothing charged, the subscription trials', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: 'price_tollgate_basic_monthly', quantity: 1 }],
      subscription_data: { trial_period_days: 14 },
      success_url: 'http://shop.test/ok',
    });
    expect(session.amount_total).toBe(0);
    const events = await eventsDuring(() => payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK }));
    const types = events.map((e) => e.type);
    expect(types).not.toContain('payment_intent.created');
    expect(types).toContain('checkout.session.completed');
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.payment_status).toBe('no_payment_required');
    const sub = await stripe.subscriptions.retrieve(String(done.subscription));
    expect(sub.status).toBe('trialing');
    expect((sub.trial_end ?? 0) - (sub.trial_start ?? 0)).toBe(14 * DAY);
  });
});

describe('Checkout mode=payment, price_data and ui_mode', () => {
  it('hosted_page by default (the value of this API version)', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [
        { price_data: { currency: 'usd', unit_amount: 1500, product_data: { name: 'Poster' } }, quantity: 2 },
      ],
      success_url: 'http://shop.test/ok',
    });
    expect(session.ui_mode).toBe('hosted_page');
    expect(session.amount_total).toBe(3000);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data[0]?.description).toBe('Poster');
    expect(items.data[0]?.price?.active).toBe(false);
    await payOnHostedPage(session.url ?? '', { cardNumber: CARD_OK });
    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done.status).toBe('complete');
    expect((await stripe.paymentIntents.retrieve(String(done.payment_intent))).amount).toBe(3000);
  });

  it('embedded_page: a client_secret and return_url, no url', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'payment',
      ui_mode: 'embedded_page',
      line_items: [{ price_data: { currency: 'usd', unit_amount: 700, product_data: { name: 'Ticket' } } }],
      return_url: 'http://shop.test/return?session_id={CHECKOUT_SESSION_ID}',
    });
    expect(session.ui_mode).toBe('embedded_page');
    expect(session.url).toBeNull();
    expect(session.client_secret).toMatch(new RegExp(`^${session.id}_secret_`));
    expect(session.return_url).toContain('http://shop.test/return');
    const res = await payOnHostedPage(`${t.emu.url}/c/pay/${session.id}`, { cardNumber: CARD_OK });
    expect(res.headers.get('location')).toBe(`http://shop.test/return?session_id=${session.id}`);
    const old = await stripeError(
      stripe.checkout.sessions.create({
        mode: 'payment',
        ui_mode: 'hosted' as Stripe.Checkout.SessionCreateParams.UiMode,
        line_items: [{ price_data: { currency: 'usd', unit_amount: 700, product_data: { name: 'T' } } }],
        success_url: 'http://shop.test/ok',
      }),
    );
    expect(old.param).toBe('ui_mode');
  });
});
