/**
 * What checkout may sell and to whom: only products marked sellable, and at
 * most one subscription per user however fast the clicks; plus the success
 * page, which must not turn anonymous requests into Stripe calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASIC_MONTHLY,
  bearer,
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  type Stack,
  startStack,
  subscribe,
  type TestUser,
} from './stack.js';

const ALLOW_LISTED = 'prod_test_allow_listed';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ SELLABLE_PRODUCTS: `prod_unrelated, ${ALLOW_LISTED}` }, { stripeProxy: true });
});
afterAll(async () => {
  await stack?.close();
});

const checkout = (user: TestUser, priceId: string) =>
  stack.app.inject({
    method: 'POST',
    url: '/api/v1/checkout',
    headers: bearer(user),
    payload: { price_id: priceId },
  });

async function listedPriceIds(): Promise<string[]> {
  const response = await stack.app.inject({ method: 'GET', url: '/api/v1/products' });
  const products = (response.json() as { data: { id: string; prices: { id: string }[] }[] }).data;
  return products.flatMap((p) => p.prices.map((price) => price.id));
}

/** A product and monthly price at Stripe, mirrored into billing. */
async function productAtStripe(options: { id?: string; metadata: Record<string, string>; amount: number }) {
  const product = await stack.stripe.products.create({
    ...(options.id ? { id: options.id } : {}),
    name: `Test ${options.id ?? 'product'}`,
    metadata: options.metadata,
  });
  const price = await stack.stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: options.amount,
    recurring: { interval: 'month' },
  });
  await stack.app.billing.catalog.refreshPrice(price.id);
  await stack.app.billing.catalog.refreshProduct(product.id);
  return price.id;
}

describe('what is on sale', () => {
  it('a recurring price of a product not marked sellable is neither listed nor sold (404 like an unknown price)', async () => {
    // A $0 staff plan that grants the premium role: active, recurring, on the same account.
    const staff = await productAtStripe({ metadata: { role: 'premium' }, amount: 0 });
    const user = await newUser(stack);
    const response = await checkout(user, staff);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'price_not_found' });
    expect(await listedPriceIds()).not.toContain(staff);
    // A plan change to it is refused the same way.
    await subscribe(stack, user, BASIC_MONTHLY);
    await eventually(async () => stack.app.billing.subscriptions.findLive(user.id));
    const change = await stack.app.inject({
      method: 'PUT',
      url: '/api/v1/subscription',
      headers: bearer(user),
      payload: { price_id: staff },
    });
    expect(change.statusCode).toBe(404);
    expect(change.json()).toMatchObject({ code: 'price_not_found' });
  });

  it('sells products marked tollgate_sellable=true, and those in SELLABLE_PRODUCTS', async () => {
    const marked = await productAtStripe({
      metadata: { role: 'premium', tollgate_sellable: 'true' },
      amount: 1500,
    });
    const listed = await productAtStripe({ id: ALLOW_LISTED, metadata: { role: 'premium' }, amount: 1700 });
    const prices = await listedPriceIds();
    expect(prices).toEqual(expect.arrayContaining([marked, listed, PREMIUM_MONTHLY]));
    for (const price of [marked, listed]) {
      const user = await newUser(stack);
      expect((await checkout(user, price)).statusCode).toBe(200);
    }
  });

  it('the seeded demo catalogue is on sale', async () => {
    const products = await stack.stripe.products.list({ limit: 100 });
    const seeded = products.data.filter((p) => p.id.startsWith('prod_tollgate_'));
    expect(seeded.map((p) => p.metadata.tollgate_sellable)).toEqual(['true', 'true']);
    expect(await listedPriceIds()).toEqual(
      expect.arrayContaining([
        'price_tollgate_basic_monthly',
        'price_tollgate_basic_yearly',
        'price_tollgate_premium_monthly',
        'price_tollgate_premium_yearly',
      ]),
    );
  });
});
