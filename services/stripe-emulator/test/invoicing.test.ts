/** Invoice items and invoices made through the API, through the official SDK. */
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

describe('invoice items', () => {
  it('create, retrieve, update, list and delete', async () => {
    const customer = await stripe.customers.create({});
    const item = await stripe.invoiceItems.create({
      customer: customer.id,
      amount: 1200,
      currency: 'usd',
      description: 'Setup fee',
    });
    expect(item.invoice).toBeNull();
    expect(item.amount).toBe(1200);
    expect((await stripe.invoiceItems.retrieve(item.id)).description).toBe('Setup fee');
    const types = await eventsDuring(async () => {
      const updated = await stripe.invoiceItems.update(item.id, { amount: 1500, metadata: { k: 'v' } });
      expect(updated.amount).toBe(1500);
    });
    expect(types).toEqual(['invoiceitem.updated']);
    const priced = await stripe.invoiceItems.create({
      customer: customer.id,
      pricing: { price: 'price_tollgate_basic_monthly' },
      quantity: 2,
    });
    expect(priced.amount).toBe(998);
    expect(priced.pricing?.price_details?.price).toBe('price_tollgate_basic_monthly');
    const listed = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
    expect(listed.data.map((i) => i.id)).toEqual([priced.id, item.id]);
    const deleted = await stripe.invoiceItems.del(priced.id);
    expect(deleted.deleted).toBe(true);
    expect((await stripeError(stripe.invoiceItems.retrieve(priced.id))).statusCode).toBe(404);
  });
});

describe('invoices through the API', () => {
  it('a draft with the pending items, finalized, paid with a payment method', async () => {
    const customer = await stripe.customers.create({ email: 'inv@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd' });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: 'usd' });
    const invoice = await stripe.invoices.create({
      customer: customer.id,
      description: 'One-off',
      pending_invoice_items_behavior: 'include',
    });
    expect(invoice.status).toBe('draft');
    expect(invoice.billing_reason).toBe('manual');
    expect(invoice.amount_due).toBe(2500);
    expect(invoice.lines.data).toHaveLength(2);
    expect(invoice.auto_advance).toBe(false);
    const updated = await stripe.invoices.update(invoice.id, { metadata: { order: '9' } });
    expect(updated.metadata).toEqual({ order: '9' });
    const found = await stripe.invoices.search({ query: `metadata["order"]:"9" AND status:"draft"` });
    expect(found.data.map((i) => i.id)).toEqual([invoice.id]);
    const finalized = await stripe.invoices.finalizeInvoice(invoice.id);
    expect(finalized.status).toBe('open');
    expect(finalized.number).toMatch(/-0001$/);
    const types = await eventsDuring(async () => {
      const paid = await stripe.invoices.pay(invoice.id, { payment_method: pm.id });
      expect(paid.status).toBe('paid');
      expect(paid.amount_paid).toBe(2500);
    });
    expect(types).toEqual([
      'payment_intent.created',
      'payment_intent.succeeded',
      'charge.succeeded',
      'invoice.paid',
      'invoice.payment_succeeded',
      'invoice_payment.paid',
    ]);
    const [payment] = (await stripe.invoicePayments.list({ invoice: invoice.id })).data;
    const pi = await stripe.paymentIntents.retrieve(String(payment?.payment.payment_intent));
    expect(pi.amount).toBe(2500);
    expect(pi.payment_method).toBe(pm.id);
  });

  it('pays out of band, voids, marks uncollectible and deletes drafts', async () => {
    const customer = await stripe.customers.create({});
    await stripe.invoiceItems.create({ customer: customer.id, amount: 700, currency: 'usd' });
    const a = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    const types = await eventsDuring(async () => {
      const paid = await stripe.invoices.pay(a.id, { paid_out_of_band: true });
      expect(paid.status).toBe('paid');
    });
    expect(types).toEqual(['invoice.finalized', 'invoice.paid', 'invoice.updated']);
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data).toHaveLength(0);

    await stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd' });
    const b = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    await stripe.invoices.finalizeInvoice(b.id);
    const voided = await stripe.invoices.voidInvoice(b.id);
    expect(voided.status).toBe('void');
    const notDraft = await stripeError(stripe.invoices.del(b.id));
    expect(notDraft.code).toBe('invoice_unexpected_state');

    await stripe.invoiceItems.create({ customer: customer.id, amount: 300, currency: 'usd' });
    const c = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    await stripe.invoices.finalizeInvoice(c.id);
    expect((await stripe.invoices.markUncollectible(c.id)).status).toBe('uncollectible');

    const d = await stripe.invoices.create({ customer: customer.id });
    expect(d.amount_due).toBe(0);
    expect((await stripe.invoices.del(d.id)).deleted).toBe(true);
  });

  it('a failing card answers 402 and leaves the invoice open', async () => {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 2000, currency: 'usd' });
    const invoice = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: 'include',
    });
    const err = await stripeError(stripe.invoices.pay(invoice.id, { payment_method: pm.id }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    const after = await stripe.invoices.retrieve(invoice.id);
    expect(after.status).toBe('open');
    expect(after.attempt_count).toBe(1);
  });

  it('create_preview shows the next renewal of a subscription, with pending prorations', async () => {
    const customer = await stripe.customers.create({
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
    });
    const preview = await stripe.invoices.createPreview({ subscription: sub.id });
    expect(preview.id).toMatch(/^upcoming_in_/);
    expect(preview.amount_due).toBe(499);
    const item = sub.items.data[0] as Stripe.SubscriptionItem;
    expect(preview.lines.data[0]?.period.start).toBe(item.current_period_end);
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: 'price_tollgate_premium_monthly' }],
    });
    const withProrations = await stripe.invoices.createPreview({ subscription: sub.id });
    expect(withProrations.lines.data.length).toBe(3);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toHaveLength(1);
  });
});
