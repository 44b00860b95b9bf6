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
  payOnHostedPage,
  rolesInAuth,
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
    expect(seeded.map((p) => p.metadata.tollgate_sellable)).toEqual(['true', 'true', 'true']);
    expect(await listedPriceIds()).toEqual(
      expect.arrayContaining([
        'price_tollgate_basic_monthly',
        'price_tollgate_basic_yearly',
        'price_tollgate_premium_monthly',
        'price_tollgate_premium_yearly',
        'price_tollgate_downloads_monthly',
      ]),
    );
  });
});

/** The customer's subscriptions as Stripe has them (any status). */
async function subscriptionsAtStripe(user: TestUser) {
  const customer = await stack.app.billing.customers.findByUser(user.id);
  if (!customer) return [];
  return (await stack.stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data;
}

describe('one subscription per user', () => {
  it('two checkouts for different prices started together leave one payable session: one subscription', async () => {
    const user = await newUser(stack);
    const [basic, premium] = await Promise.all([
      checkout(user, BASIC_MONTHLY),
      checkout(user, PREMIUM_MONTHLY),
    ]);
    expect([basic.statusCode, premium.statusCode]).toEqual([200, 200]);
    const urls = [basic, premium].map(
      (r) => (r.json() as { checkout_session_url: string }).checkout_session_url,
    );
    // The user pays in both tabs.
    const paid = await Promise.all(urls.map((url) => payOnHostedPage(url)));
    expect(paid.filter((r) => r.status === 303)).toHaveLength(1);
    await stack.emu.waitForWebhooks();
    const subscriptions = await subscriptionsAtStripe(user);
    expect(subscriptions).toHaveLength(1);
    await eventually(async () => (await rolesInAuth(stack, user)).length > 0, 15_000);
    const roles = await rolesInAuth(stack, user);
    expect(roles.filter((r) => r === 'subscriber' || r === 'premium')).toHaveLength(1);
  });

  it("a second checkout while the first subscription's webhooks are still on their way is 409", async () => {
    const user = await newUser(stack);
    const faults = stack.emu.emulator.webhooks.faults;
    faults.delay_ms = 4000; // billing's own copy lags Stripe by this much
    try {
      const first = await checkout(user, BASIC_MONTHLY);
      const paid = await payOnHostedPage(
        (first.json() as { checkout_session_url: string }).checkout_session_url,
      );
      expect(paid.status).toBe(303);
      expect(await stack.app.billing.subscriptions.findLive(user.id)).toBeNull(); // the mirror does not know yet
      const second = await checkout(user, PREMIUM_MONTHLY);
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ code: 'subscription_exists' });
    } finally {
      faults.delay_ms = 0;
    }
    await stack.emu.waitForWebhooks();
    expect(await subscriptionsAtStripe(user)).toHaveLength(1);
  });

  it('the same click twice gets the same session back', async () => {
    const user = await newUser(stack);
    const first = (await checkout(user, PREMIUM_MONTHLY)).json() as { checkout_session_id: string };
    const again = (await checkout(user, PREMIUM_MONTHLY)).json() as { checkout_session_id: string };
    expect(again.checkout_session_id).toBe(first.checkout_session_id);
  });

  it("when a session completes, the customer's other open sessions are expired", async () => {
    const user = await newUser(stack);
    const ours = (await checkout(user, BASIC_MONTHLY)).json() as { checkout_session_url: string };
    const customer = await stack.app.billing.customers.findByUser(user.id);
    // A session made elsewhere (another tool, a replica whose lease had expired): still open.
    const stray = await stack.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer?.id as string,
      line_items: [{ price: PREMIUM_MONTHLY, quantity: 1 }],
      success_url: 'http://localhost/ok',
      cancel_url: 'http://localhost/no',
    });
    expect((await payOnHostedPage(ours.checkout_session_url)).status).toBe(303);
    await eventually(
      async () => (await stack.stripe.checkout.sessions.retrieve(stray.id)).status === 'expired',
    );
    expect((await payOnHostedPage(stray.url as string)).status).not.toBe(303);
    expect(await subscriptionsAtStripe(user)).toHaveLength(1);
  });
});

describe('success page', () => {
  const stripeCallsFor = (prefix: string) =>
    (stack.proxy?.seen ?? []).filter((r) => r.path.startsWith(prefix)).length;

  it('anonymous requests for unknown sessions cost no Stripe call', async () => {
    // Counted by the guessed ids, not all session calls: the test before leaves a
    // background job expiring the customer's other sessions, whose calls may land now.
    const guesses = () => (stack.proxy?.seen ?? []).filter((r) => r.path.includes('cs_test_guess_')).length;
    const before = guesses();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.app.inject({ method: 'GET', url: `/api/v1/success?session_id=cs_test_guess_${i}` }),
      ),
    );
    expect(responses.every((r) => r.statusCode === 404)).toBe(true);
    expect(guesses() - before).toBe(0);
  });

  it('many requests for a real session ask Stripe at most once, and show it paid', async () => {
    const user = await newUser(stack);
    const sessionId = await subscribe(stack, user, PREMIUM_MONTHLY);
    const before = stripeCallsFor(`/v1/checkout/sessions/${sessionId}`);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.app.inject({ method: 'GET', url: `/api/v1/success?session_id=${sessionId}` }),
      ),
    );
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    const later = await stack.app.inject({ method: 'GET', url: `/api/v1/success?session_id=${sessionId}` });
    expect(later.body).toContain('your payment went through');
    expect(later.body).toContain('Premium');
    expect(stripeCallsFor(`/v1/checkout/sessions/${sessionId}`) - before).toBeLessThanOrEqual(1);
  });
});
