/**
 * Search on every searchable resource, subscription items, Entitlements (with
 * the summary event as subscriptions start, change and end), `Stripe-Version`,
 * and event listing by `created[gt]`, through the official SDK.
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

/** Webhook events delivered while `fn` runs. */
const eventsDuring = (fn: () => Promise<unknown>) => eventsDuringOf(t, receiver, fn);

async function subscribed(price: string, metadata: Record<string, string> = {}) {
  const customer = await stripe.customers.create({
    payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price }], metadata });
  return { customer, sub };
}

describe('search', () => {
  it('subscriptions, invoices, payment intents, charges, prices and products answer search_result lists', async () => {
    const { customer, sub } = await subscribed('price_tollgate_premium_monthly', { tier: 'gold' });
    const subs = await stripe.subscriptions.search({ query: `status:"active" AND metadata["tier"]:"gold"` });
    expect(subs.object).toBe('search_result');
    expect(subs.data.map((s) => s.id)).toEqual([sub.id]);
    const invoices = await stripe.invoices.search({ query: `customer:"${customer.id}" AND total>=999` });
    expect(invoices.data.map((i) => i.id)).toEqual([String(sub.latest_invoice)]);
    const pis = await stripe.paymentIntents.search({
      query: `customer:"${customer.id}" AND status:"succeeded"`,
    });
    expect(pis.data).toHaveLength(1);
    const charges = await stripe.charges.search({
      query: `customer:"${customer.id}" AND payment_method_details.card.last4:"4242"`,
    });
    expect(charges.data).toHaveLength(1);
    const prices = await stripe.prices.search({ query: `lookup_key:"tollgate_basic_yearly"` });
    expect(prices.data.map((p) => p.id)).toEqual(['price_tollgate_basic_yearly']);
    const products = await stripe.products.search({ query: `name~"prem" AND active:"true"` });
    expect(products.data.map((p) => p.id)).toEqual(['prod_tollgate_premium']);
  });

  it('pages with next_page, and refuses bad queries with Stripe’s 400', async () => {
    const tag = `batch-${Date.now()}`;
    for (let i = 0; i < 3; i++)
      await stripe.customers.create({ email: `${tag}-${i}@example.com`, metadata: { tag } });
    const first = await stripe.customers.search({ query: `metadata["tag"]:"${tag}"`, limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const second = await stripe.customers.search({
      query: `metadata["tag"]:"${tag}"`,
      limit: 2,
      page: first.next_page ?? '',
    });
    expect(second.data).toHaveLength(1);
    expect(second.has_more).toBe(false);
    const all = [];
    for await (const c of stripe.customers.search({ query: `email~"${tag}"`, limit: 1 })) all.push(c.id);
    expect(all).toHaveLength(3);
    const bad = await stripeError(stripe.subscriptions.search({ query: 'colour:"red"' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.param).toBe('query');
  });
});

describe('subscription items', () => {
  it('create, retrieve, update, list and delete, each as a subscription update', async () => {
    const { sub } = await subscribed('price_tollgate_basic_monthly');
    const events = await eventsDuring(async () => {
      const item = await stripe.subscriptionItems.create({
        subscription: sub.id,
        price: 'price_tollgate_premium_monthly',
        proration_behavior: 'none',
      });
      expect(item.subscription).toBe(sub.id);
      expect((await stripe.subscriptionItems.retrieve(item.id)).price.id).toBe(
        'price_tollgate_premium_monthly',
      );
      const updated = await stripe.subscriptionItems.update(item.id, {
        quantity: 2,
        proration_behavior: 'none',
      });
      expect(updated.quantity).toBe(2);
      const list = await stripe.subscriptionItems.list({ subscription: sub.id });
      expect(list.data).toHaveLength(2);
      expect((await stripe.subscriptionItems.del(item.id, { proration_behavior: 'none' })).deleted).toBe(
        true,
      );
    });
    expect(events.filter((e) => e.type === 'customer.subscription.updated')).toHaveLength(3);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data).toHaveLength(1);
    expect((await stripeError(stripe.subscriptionItems.retrieve('si_nope'))).statusCode).toBe(404);
  });
});

describe('entitlements', () => {
  it('features of products become a customer’s active entitlements, with a summary event at each change', async () => {
    const hd = await stripe.entitlements.features.create({ name: 'HD streaming', lookup_key: 'hd' });
    const uhd = await stripe.entitlements.features.create({ name: '4K streaming', lookup_key: 'uhd' });
    expect((await stripe.entitlements.features.list({ lookup_key: 'hd' })).data.map((f) => f.id)).toEqual([
      hd.id,
    ]);
    const pf = await stripe.products.createFeature('prod_tollgate_basic', { entitlement_feature: hd.id });
    expect(pf.entitlement_feature.id).toBe(hd.id);
    await stripe.products.createFeature('prod_tollgate_premium', { entitlement_feature: hd.id });
    await stripe.products.createFeature('prod_tollgate_premium', { entitlement_feature: uhd.id });
    expect((await stripe.products.listFeatures('prod_tollgate_premium')).data).toHaveLength(2);

    let customer = '';
    let subId = '';
    const started = await eventsDuring(async () => {
      const { customer: c, sub } = await subscribed('price_tollgate_basic_monthly');
      customer = c.id;
      subId = sub.id;
    });
    const summaries = (events: Stripe.Event[]) =>
      events
        .filter((e) => e.type === 'entitlements.active_entitlement_summary.updated')
        .map((e) =>
          (e.data.object as Stripe.Entitlements.ActiveEntitlementSummary).entitlements.data.map(
            (x) => x.lookup_key,
          ),
        );
    expect(summaries(started)).toEqual([['hd']]);
    const active = await stripe.entitlements.activeEntitlements.list({ customer });
    expect(active.data.map((e) => e.lookup_key)).toEqual(['hd']);
    expect((await stripe.entitlements.activeEntitlements.retrieve(active.data[0]?.id ?? '')).feature).toBe(
      hd.id,
    );

    const sub = await stripe.subscriptions.retrieve(subId);
    const changed = await eventsDuring(() =>
      stripe.subscriptions.update(subId, {
        items: [{ id: sub.items.data[0]?.id, price: 'price_tollgate_premium_monthly' }],
      }),
    );
    expect(summaries(changed)).toEqual([['hd', 'uhd']]);
    const summary = changed.find((e) => e.type === 'entitlements.active_entitlement_summary.updated');
    expect(
      (
        summary?.data.previous_attributes as { entitlements: { data: { lookup_key: string }[] } } | undefined
      )?.entitlements.data.map((x) => x.lookup_key),
    ).toEqual(['hd']);

    const ended = await eventsDuring(() => stripe.subscriptions.cancel(subId));
    expect(summaries(ended)).toEqual([[]]);
    expect((await stripe.entitlements.activeEntitlements.list({ customer })).data).toEqual([]);
    expect((await stripe.products.retrieveFeature('prod_tollgate_basic', pf.id)).entitlement_feature.id).toBe(
      hd.id,
    );
    expect((await stripe.products.deleteFeature('prod_tollgate_basic', pf.id)).deleted).toBe(true);
    expect((await stripe.entitlements.features.retrieve(uhd.id)).lookup_key).toBe('uhd');
    const renamed = await stripe.entitlements.features.update(uhd.id, {
      name: 'UHD',
      metadata: { tier: 'top' },
    });
    expect(renamed.name).toBe('UHD');
    expect(renamed.metadata).toEqual({ tier: 'top' });
  });
});

describe('Stripe-Version', () => {
  async function get(version: string | null) {
    return fetch(`${t.emu.url}/v1/customers?limit=1`, {
      headers: { authorization: `Bearer ${t.emu.apiKey}`, ...(version ? { 'stripe-version': version } : {}) },
    });
  }

  it('echoes a known version (older ones too) and defaults to the pinned one', async () => {
    expect((await get('2022-11-15')).headers.get('stripe-version')).toBe('2022-11-15');
    expect((await get(null)).headers.get('stripe-version')).toBe('2026-10-28.endive');
  });

  it('refuses an unknown version with Stripe’s 400', async () => {
    const res = await get('2099-13-01');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^Invalid Stripe API version: 2099-13-01/);
    const old = new Stripe(t.emu.apiKey, {
      ...t.emu.stripeConfig,
      apiVersion: '2099-13-01' as never,
      maxNetworkRetries: 0,
    });
    expect((await stripeError(old.customers.list())).statusCode).toBe(400);
  });
});

describe('events', () => {
  it('lists events created after a time with created[gt]', async () => {
    const all = await stripe.events.list({ limit: 100 });
    const newest = all.data[0]?.created ?? 0;
    await t.control('POST', '/_emulator/advance-time', { seconds: 10 });
    const later = await stripe.customers.create({ email: 'after@example.com' });
    const after = await stripe.events.list({ created: { gt: newest } });
    expect(after.data.length).toBeGreaterThan(0);
    expect(after.data.every((e) => e.created > newest)).toBe(true);
    expect(after.data.some((e) => (e.data.object as { id?: string }).id === later.id)).toBe(true);
  });
});
