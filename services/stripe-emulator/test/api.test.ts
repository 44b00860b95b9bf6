import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup, type TestEmulator } from './helper.js';

let t: TestEmulator;
let stripe: Stripe;

beforeAll(async () => {
  t = await setup();
  stripe = t.stripe;
});
afterAll(() => t.close());

async function stripeError(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

describe('authentication and errors', () => {
  it('answers 401 without a key and with a wrong key, in Stripe shape', async () => {
    const noKey = await fetch(`${t.emu.url}/v1/customers`);
    expect(noKey.status).toBe(401);
    const body = (await noKey.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/did not provide an API key/);

    const wrong = new Stripe('sk_test_wrong_key_123456', { ...t.emu.stripeConfig, maxNetworkRetries: 0 });
    const err = await stripeError(wrong.customers.list());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).toMatch(/Invalid API Key provided: sk_test_/);
  });

  it('accepts Basic auth with the key as user name', async () => {
    const res = await fetch(`${t.emu.url}/v1/customers`, {
      headers: { authorization: `Basic ${Buffer.from(`${t.emu.apiKey}:`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
  });

  it('answers 404 in Stripe shape for endpoints it does not emulate, saying so', async () => {
    const res = await fetch(`${t.emu.url}/v1/disputes`, {
      headers: { authorization: `Bearer ${t.emu.apiKey}` },
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('Unrecognized request URL (GET: /v1/disputes)');
    expect(body.error.message).toContain('does not emulate');
    const viaSdk = await stripeError(stripe.disputes.list());
    expect(viaSdk).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it('reports missing and invalid parameters as 400 with code and param', async () => {
    const missing = await stripeError(stripe.prices.create({ currency: 'usd', unit_amount: 100 } as never));
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing.statusCode).toBe(400);
    expect(missing.code).toBe('parameter_missing');
    expect(missing.param).toBe('product');

    const unknown = await stripeError(stripe.customers.create({ emial: 'x@y.z' } as never));
    expect(unknown.code).toBe('parameter_unknown');
    expect(unknown.param).toBe('emial');

    const badLimit = await stripeError(stripe.customers.list({ limit: 101 }));
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.param).toBe('limit');
  });

  it('reports unknown objects as 404 resource_missing', async () => {
    const err = await stripeError(stripe.subscriptions.retrieve('sub_missing'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('resource_missing');
    expect(err.message).toBe("No such subscription: 'sub_missing'");
    expect(err.requestId).toMatch(/^req_/);
  });

  it('reports a declined card as 402 card_error', async () => {
    const customer = await stripe.customers.create({ email: 'declined@example.com' });
    const err = await stripeError(
      stripe.paymentMethods.attach('pm_card_visa_chargeDeclined', { customer: customer.id }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.statusCode).toBe(402);
    expect(err.code).toBe('card_declined');
    expect(err.decline_code).toBe('generic_decline');
  });

  it('accepts a Stripe-Version header and echoes it', async () => {
    const res = await fetch(`${t.emu.url}/v1/prices`, {
      headers: { authorization: `Bearer ${t.emu.apiKey}`, 'stripe-version': '2026-10-28.endive' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('stripe-version')).toBe('2026-10-28.endive');
  });
});

describe('customers', () => {
  it('creates, retrieves, updates, filters by email and deletes', async () => {
    const created = await stripe.customers.create({
      email: 'crud@example.com',
      name: 'Crud',
      metadata: { userId: 'u-1' },
    });
    expect(created.id).toMatch(/^cus_/);
    expect(created.object).toBe('customer');
    expect(created.livemode).toBe(false);
    expect(created.metadata).toEqual({ userId: 'u-1' });

    const updated = await stripe.customers.update(created.id, { name: 'Renamed', metadata: { plan: 'x' } });
    expect(updated.name).toBe('Renamed');
    expect(updated.metadata).toEqual({ userId: 'u-1', plan: 'x' });

    const byEmail = await stripe.customers.list({ email: 'crud@example.com' });
    expect(byEmail.data.map((c) => c.id)).toEqual([created.id]);

    const found = await stripe.customers.search({ query: "metadata['userId']:'u-1'" });
    expect(found.data.map((c) => c.id)).toEqual([created.id]);

    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'customer', deleted: true });
    const again = await stripe.customers.retrieve(created.id);
    expect(again.deleted).toBe(true);
    expect((await stripe.customers.list({ email: 'crud@example.com' })).data).toHaveLength(0);
  });
});

describe('lists', () => {
  it('paginates with limit, starting_after, ending_before and has_more so auto-pagination works', async () => {
    const email = 'page@example.com';
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await stripe.customers.create({ email })).id);
    const newestFirst = [...ids].reverse();

    const first = await stripe.customers.list({ email, limit: 10 });
    expect(first.object).toBe('list');
    expect(first.url).toBe('/v1/customers');
    expect(first.has_more).toBe(true);
    expect(first.data.map((c) => c.id)).toEqual(newestFirst.slice(0, 10));

    const second = await stripe.customers.list({ email, limit: 10, starting_after: first.data[9]?.id });
    expect(second.data.map((c) => c.id)).toEqual(newestFirst.slice(10, 20));

    const back = await stripe.customers.list({ email, limit: 5, ending_before: second.data[0]?.id });
    expect(back.data.map((c) => c.id)).toEqual(newestFirst.slice(5, 10));
    expect(back.has_more).toBe(true);

    const all = await stripe.customers.list({ email, limit: 7 }).autoPagingToArray({ limit: 1000 });
    expect(all.map((c) => c.id)).toEqual(newestFirst);

    const seen: string[] = [];
    for await (const c of stripe.customers.list({ email, limit: 4 })) seen.push(c.id);
    expect(seen).toEqual(newestFirst);
  });

  it('filters prices by product, type, lookup key and recurring interval', async () => {
    const yearly = await stripe.prices.list({
      product: 'prod_tollgate_premium',
      recurring: { interval: 'year' },
    });
    expect(yearly.data.map((p) => p.id)).toEqual(['price_tollgate_premium_yearly']);
    const byKey = await stripe.prices.list({ lookup_keys: ['tollgate_basic_monthly'] });
    expect(byKey.data[0]?.unit_amount).toBe(499);
    const oneTime = await stripe.prices.list({ type: 'one_time', product: 'prod_tollgate_basic' });
    expect(oneTime.data).toHaveLength(0);
  });
});

describe('catalogue', () => {
  it('is seeded with Basic and Premium (monthly and yearly), an add-on, a trial and a promotion code', async () => {
    const products = await stripe.products.list({ active: true });
    const byName = Object.fromEntries(products.data.map((p) => [p.name, p]));
    expect(byName.Basic?.metadata.role).toBe('subscriber');
    expect(byName.Premium?.metadata.role).toBe('premium');
    expect(byName['Offline downloads']?.metadata).toMatchObject({
      role: 'downloads',
      tollgate_addon: 'true',
    });
    const prices = await stripe.prices.list({ limit: 100, active: true });
    const seeded = prices.data.filter((p) => String(p.product).startsWith('prod_tollgate_'));
    expect(seeded).toHaveLength(5);
    expect(seeded.find((p) => p.id === 'price_tollgate_premium_yearly')?.metadata).toEqual({
      trial_period_days: '14',
    });
    const [code] = (await stripe.promotionCodes.list({ code: 'WELCOME20' })).data;
    expect(code?.promotion.coupon).toBe('tollgate_welcome20');
    for (const p of seeded) {
      expect(p.currency).toBe('usd');
      expect(p.type).toBe('recurring');
      expect(['month', 'year']).toContain(p.recurring?.interval);
    }
  });

  it('creates and updates products and recurring prices', async () => {
    const product = await stripe.products.create({ name: 'Family', metadata: { role: 'family' } });
    expect(product.id).toMatch(/^prod_/);
    const price = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1499,
      recurring: { interval: 'month' },
      lookup_key: 'family_monthly',
    });
    expect(price.id).toMatch(/^price_/);
    expect(price.recurring?.interval).toBe('month');
    expect(String(price.unit_amount_decimal)).toBe('1499');
    const renamed = await stripe.products.update(product.id, {
      name: 'Family plan',
      default_price: price.id,
    });
    expect(renamed.name).toBe('Family plan');
    expect(renamed.default_price).toBe(price.id);
    const archived = await stripe.prices.update(price.id, { active: false });
    expect(archived.active).toBe(false);
    const dup = await stripeError(
      stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1,
        lookup_key: 'family_monthly',
      }),
    );
    expect(dup.code).toBe('lookup_key_already_used');
  });
});

describe('expand', () => {
  it('expands ids along dotted paths, on lists too, and rejects what cannot be expanded', async () => {
    const price = await stripe.prices.retrieve('price_tollgate_basic_monthly', { expand: ['product'] });
    expect((price.product as Stripe.Product).metadata.role).toBe('subscriber');

    const customer = await stripe.customers.create({ email: 'expand@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_premium_monthly' }],
      default_payment_method: pm.id,
      expand: ['latest_invoice', 'items.data.price.product', 'customer'],
    });
    expect((sub.latest_invoice as Stripe.Invoice).object).toBe('invoice');
    expect((sub.items.data[0]!.price.product as Stripe.Product).name).toBe('Premium');
    expect((sub.customer as Stripe.Customer).email).toBe('expand@example.com');

    const list = await stripe.subscriptions.list({ customer: customer.id, expand: ['data.customer'] });
    expect((list.data[0]!.customer as Stripe.Customer).id).toBe(customer.id);

    const invoices = await stripe.invoices.list({
      customer: customer.id,
      expand: ['data.parent.subscription_details.subscription'],
    });
    const parentSub = invoices.data[0]?.parent?.subscription_details?.subscription as Stripe.Subscription;
    expect(parentSub.id).toBe(sub.id);

    const err = await stripeError(stripe.customers.retrieve(customer.id, { expand: ['nonsense'] }));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/cannot be expanded \(nonsense\)/);
  });
});

describe('idempotency', () => {
  it('replays the same response for the same key and params', async () => {
    const key = `idem-${Date.now()}`;
    const a = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: key });
    const b = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: key });
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true');
    const list = await stripe.customers.list({ email: 'idem@example.com' });
    expect(list.data).toHaveLength(1);
  });

  it('rejects the same key with other params with 400 idempotency_error', async () => {
    const key = `idem-other-${Date.now()}`;
    await stripe.customers.create({ email: 'one@example.com' }, { idempotencyKey: key });
    const err = await stripeError(
      stripe.customers.create({ email: 'two@example.com' }, { idempotencyKey: key }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err.statusCode).toBe(400);
    expect(err.type).toBe('StripeIdempotencyError');
  });

  it('gives each SDK call its own automatic key', async () => {
    const a = await stripe.customers.create({ email: 'auto@example.com' });
    const b = await stripe.customers.create({ email: 'auto@example.com' });
    expect(a.id).not.toBe(b.id);
  });
});

describe('payment methods', () => {
  it('attaches the magic test ids as new payment methods, retrieves and lists them', async () => {
    const customer = await stripe.customers.create({ email: 'pm@example.com' });
    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(visa.id).toMatch(/^pm_/);
    expect(visa.id).not.toBe('pm_card_visa');
    expect(visa.card?.last4).toBe('4242');
    expect(visa.customer).toBe(customer.id);
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    expect(failing.card?.last4).toBe('0341');
    const listed = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(listed.data.map((p) => p.id)).toEqual([failing.id, visa.id]);
    const viaCustomer = await stripe.customers.listPaymentMethods(customer.id);
    expect(viaCustomer.data).toHaveLength(2);
    expect((await stripe.paymentMethods.retrieve(visa.id)).customer).toBe(customer.id);
  });
});

describe('webhook endpoints and events', () => {
  it('creates, lists and deletes webhook endpoints, returning the secret once', async () => {
    const ep = await stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/hook',
      enabled_events: ['*'],
    });
    expect(ep.id).toMatch(/^we_/);
    expect(ep.secret).toMatch(/^whsec_/);
    const listed = await stripe.webhookEndpoints.list();
    expect(listed.data.find((e) => e.id === ep.id)?.secret).toBeUndefined();
    const del = await stripe.webhookEndpoints.del(ep.id);
    expect(del.deleted).toBe(true);
  });

  it('lists and retrieves events with type filters', async () => {
    const customer = await stripe.customers.create({ email: 'events@example.com' });
    const events = await stripe.events.list({ type: 'customer.created', limit: 100 });
    const mine = events.data.find((e) => (e.data.object as Stripe.Customer).id === customer.id);
    expect(mine?.id).toMatch(/^evt_/);
    expect(mine?.api_version).toBe('2026-10-28.endive');
    expect(mine?.request?.id).toMatch(/^req_/);
    expect(mine?.request?.idempotency_key).toMatch(/^stripe-node-retry-/);
    const again = await stripe.events.retrieve(mine?.id ?? '');
    expect(again.type).toBe('customer.created');
    const wildcard = await stripe.events.list({ type: 'customer.*', limit: 3 });
    expect(wildcard.data.every((e) => e.type.startsWith('customer.'))).toBe(true);
  });
});
