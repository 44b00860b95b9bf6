/**
 * Subscription schedules (a change at the period end: phases applied by a
 * test clock's renewal, release, cancel), `trial_end=now`, and card
 * fingerprints that are the same for one card number across customers.
 */
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAY,
  eventsDuring as eventsDuringOf,
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

const eventsDuring = (fn: () => Promise<unknown>) => eventsDuringOf(t, receiver, fn);

async function subscribedOnClock(price: string, extra: Partial<Stripe.SubscriptionCreateParams> = {}) {
  const start = Math.floor(Date.now() / 1000);
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price }], ...extra });
  return { clock, customer, sub, start };
}

describe('subscription schedules', () => {
  it('a downgrade at the period end: the renewal bills the next phase, then the schedule releases', async () => {
    const { clock, sub, start } = await subscribedOnClock('price_tollgate_premium_monthly');
    const periodEnd = sub.items.data[0]?.current_period_end as number;
    let scheduleId = '';
    const created = await eventsDuring(async () => {
      const schedule = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
      scheduleId = schedule.id;
      expect(schedule).toMatchObject({
        object: 'subscription_schedule',
        status: 'active',
        subscription: sub.id,
        end_behavior: 'release',
        current_phase: { start_date: sub.items.data[0]?.current_period_start, end_date: periodEnd },
      });
      expect(schedule.phases).toHaveLength(1);
      const updated = await stripe.subscriptionSchedules.update(schedule.id, {
        phases: [
          {
            items: [{ price: 'price_tollgate_premium_monthly', quantity: 1 }],
            start_date: schedule.phases[0]?.start_date,
            end_date: periodEnd,
          },
          {
            items: [{ price: 'price_tollgate_basic_monthly' }],
            duration: { interval: 'month', interval_count: 1 },
          },
        ],
      });
      expect(updated.phases.map((p) => [p.items[0]?.price, p.start_date])).toEqual([
        ['price_tollgate_premium_monthly', schedule.phases[0]?.start_date],
        ['price_tollgate_basic_monthly', periodEnd],
      ]);
    });
    expect(created.map((e) => e.type)).toEqual([
      'subscription_schedule.created',
      'customer.subscription.updated',
      'subscription_schedule.updated',
    ]);
    expect((await stripe.subscriptions.retrieve(sub.id)).schedule).toBe(scheduleId);
    // Cancellation goes through the schedule while one manages the subscription, as at Stripe.
    expect(
      (await stripeError(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true }))).message,
    ).toMatch(/managed by the subscription schedule/);
    // A second schedule for the same subscription is refused, as at Stripe.
    expect(
      (await stripeError(stripe.subscriptionSchedules.create({ from_subscription: sub.id }))).message,
    ).toMatch(/already attached to a schedule/);

    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 2 * 3600 });
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]?.price.id).toBe('price_tollgate_basic_monthly');
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data[0]).toMatchObject({ billing_reason: 'subscription_cycle', amount_paid: 499 });
    expect((await stripe.subscriptionSchedules.retrieve(scheduleId)).current_phase?.start_date).toBe(
      periodEnd,
    );

    // After the last phase the schedule lets go; the subscription goes on at the new price.
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start + 64 * DAY });
    const released = await stripe.subscriptionSchedules.retrieve(scheduleId);
    expect(released).toMatchObject({ status: 'released', subscription: null, released_subscription: sub.id });
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after).toMatchObject({ status: 'active', schedule: null });
    expect(after.items.data[0]?.price.id).toBe('price_tollgate_basic_monthly');
  });

  it('release drops the pending phase; cancel ends the subscription', async () => {
    const { sub } = await subscribedOnClock('price_tollgate_premium_monthly');
    const schedule = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
    const events = await eventsDuring(() => stripe.subscriptionSchedules.release(schedule.id));
    expect(events.map((e) => e.type)).toEqual([
      'subscription_schedule.released',
      'customer.subscription.updated',
    ]);
    expect((await stripe.subscriptions.retrieve(sub.id)).schedule).toBeNull();
    expect((await stripeError(stripe.subscriptionSchedules.release(schedule.id))).message).toMatch(
      /`released` status/,
    );

    const other = await subscribedOnClock('price_tollgate_basic_monthly');
    const second = await stripe.subscriptionSchedules.create({ from_subscription: other.sub.id });
    const canceled = await stripe.subscriptionSchedules.cancel(second.id);
    expect(canceled.status).toBe('canceled');
    expect((await stripe.subscriptions.retrieve(other.sub.id)).status).toBe('canceled');
    const listed = await stripe.subscriptionSchedules.list({ customer: String(other.customer.id) });
    expect(listed.data.map((s) => s.id)).toEqual([second.id]);
  });
});

describe('trial_end=now', () => {
  it('ends a trial at once: active, a new period from now, its invoice charged', async () => {
    const { sub } = await subscribedOnClock('price_tollgate_basic_monthly', { trial_period_days: 14 });
    expect(sub.status).toBe('trialing');
    const events = await eventsDuring(async () => {
      const ended = await stripe.subscriptions.update(sub.id, { trial_end: 'now' });
      expect(ended.status).toBe('active');
      expect(ended.trial_end).toBe(ended.items.data[0]?.current_period_start);
    });
    expect(events.map((e) => e.type)).toContain('invoice.paid');
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data[0]).toMatchObject({ status: 'paid', amount_paid: 499 });
  });
});

describe('card fingerprints', () => {
  it('one card number has one fingerprint across customers; another card another', async () => {
    const a = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const b = await stripe.customers.create({ payment_method: 'pm_card_visa' });
    const c = await stripe.customers.create({ payment_method: 'pm_card_mastercard' });
    const fingerprint = async (customer: string) =>
      (await stripe.paymentMethods.list({ customer, type: 'card' })).data[0]?.card?.fingerprint;
    const [fa, fb, fc] = [await fingerprint(a.id), await fingerprint(b.id), await fingerprint(c.id)];
    expect(fa).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(fb).toBe(fa);
    expect(fc).not.toBe(fa);
  });
});
