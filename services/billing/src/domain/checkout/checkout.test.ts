import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../catalog/catalog.js';
import type { Customers } from '../customers/customers.js';
import type { Leases } from '../leases/leases.js';
import { createCheckout } from './checkout.js';
import type { CheckoutSessions } from './checkout-sessions.js';

const USER = { id: '00000000-0000-4000-8000-000000000001', email: 'a@example.com' };
const HOUR = 3600;
/** A plan with no trial and no code given: Stripe's page takes codes. */
const OFFER = {
  addon: false,
  trialDays: null,
  trialNote: null,
  params: { allow_promotion_codes: true },
  key: 'trial:0|promo:any',
};

interface FakeSession {
  id: string;
  status: 'open' | 'complete' | 'expired';
  price: string;
  expires_at: number;
}

/** Stripe as far as checkout uses it, holding one customer's sessions and subscriptions. */
function fakeStripe(state: { sessions: FakeSession[]; subscriptions: { status: string }[] }) {
  const created: { price: string; key: string }[] = [];
  const asSession = (s: FakeSession) => ({
    ...s,
    url: `https://pay.example/${s.id}`,
    customer: 'cus_1',
    metadata: { tollgate_offer: OFFER.key },
  });
  const stripe = {
    subscriptions: { list: async () => ({ data: state.subscriptions }) },
    checkout: {
      sessions: {
        // Newest first, as Stripe lists them.
        list: async () => ({ data: [...state.sessions].reverse().map(asSession) }),
        retrieve: async (id: string) => asSession(state.sessions.find((s) => s.id === id) as FakeSession),
        expire: async (id: string) => {
          const s = state.sessions.find((x) => x.id === id) as FakeSession;
          if (s.status !== 'open')
            throw Object.assign(new Error('not open'), { type: 'StripeInvalidRequestError' });
          s.status = 'expired';
          return asSession(s);
        },
        create: async (params: { line_items: { price: string }[] }, options: { idempotencyKey: string }) => {
          const price = params.line_items[0]?.price as string;
          created.push({ price, key: options.idempotencyKey });
          const s: FakeSession = {
            id: `cs_${state.sessions.length + 1}`,
            status: 'open',
            price,
            expires_at: Math.floor(Date.now() / 1000) + 24 * HOUR,
          };
          state.sessions.push(s);
          return asSession(s);
        },
      },
    },
  };
  return { stripe: stripe as unknown as Stripe, created };
}

function checkoutWith(state: { sessions: FakeSession[]; subscriptions: { status: string }[] }) {
  const { stripe, created } = fakeStripe(state);
  const recorded = new Map(state.sessions.map((s) => [s.id, s.price]));
  const sessions = {
    record: async (s: { id: string }, _user: string, priceId: string) => void recorded.set(s.id, priceId),
    update: async () => null,
    findMany: async (ids: string[]) =>
      ids.filter((id) => recorded.has(id)).map((id) => ({ id, priceId: recorded.get(id) })),
  } as unknown as CheckoutSessions;
  const catalog = {
    findPriceForSale: async (id: string) => (id.startsWith('price_') ? { id, interval: 'month' } : null),
  } as unknown as Catalog;
  const customers = {
    ensureCustomer: async () => ({ id: 'cus_1', userId: USER.id }),
  } as unknown as Customers;
  const leases = {
    withLease: async (_n: string, _o: unknown, work: () => Promise<unknown>) => work(),
  } as Leases;
  const checkout = createCheckout({
    ownedPurchase: async () => null,
    stripe,
    catalog,
    customers,
    subscriptions: { findLive: async () => null, findLiveAddons: async () => [], find: async () => null },
    plans: { checkoutOffer: async () => OFFER },
    addonProducts: async () => [],
    sessions,
    leases,
    urls: { success: 'https://x/success', cancel: 'https://x/cancel', portalReturn: 'https://x/' },
  });
  return { checkout, created, state };
}

const later = () => Math.floor(Date.now() / 1000) + 20 * HOUR;

describe('checkout.start', () => {
  it('creates a session keyed per customer and intent (the newest session), not per price', async () => {
    const { checkout, created } = checkoutWith({
      sessions: [{ id: 'cs_old', status: 'expired', price: 'price_a', expires_at: 0 }],
      subscriptions: [],
    });
    await checkout.start(USER, 'price_b');
    expect(created).toEqual([{ price: 'price_b', key: 'tollgate-checkout-cus_1-after-cs_old' }]);
  });

  it('hands back the open session for the same price instead of a second one', async () => {
    const { checkout, created } = checkoutWith({
      sessions: [{ id: 'cs_1', status: 'open', price: 'price_a', expires_at: later() }],
      subscriptions: [],
    });
    const view = await checkout.start(USER, 'price_a');
    expect(view.checkout_session_id).toBe('cs_1');
    expect(created).toEqual([]);
  });

  it('expires open sessions for other prices before creating one, so only one is payable', async () => {
    const { checkout, state } = checkoutWith({
      sessions: [
        { id: 'cs_1', status: 'open', price: 'price_a', expires_at: later() },
        { id: 'cs_2', status: 'open', price: 'price_c', expires_at: later() },
      ],
      subscriptions: [],
    });
    const view = await checkout.start(USER, 'price_b');
    expect(state.sessions.filter((s) => s.status === 'open').map((s) => s.id)).toEqual([
      view.checkout_session_id,
    ]);
  });

  it('replaces a same-price session that is about to expire', async () => {
    const soon = Math.floor(Date.now() / 1000) + 60;
    const { checkout, state } = checkoutWith({
      sessions: [{ id: 'cs_1', status: 'open', price: 'price_a', expires_at: soon }],
      subscriptions: [],
    });
    const view = await checkout.start(USER, 'price_a');
    expect(view.checkout_session_id).not.toBe('cs_1');
    expect(state.sessions[0]?.status).toBe('expired');
  });

  it.each(['active', 'trialing', 'past_due'])(
    'refuses with 409 when Stripe already has a %s subscription',
    async (status) => {
      const { checkout, created } = checkoutWith({
        sessions: [],
        subscriptions: [{ status: 'canceled' }, { status }],
      });
      await expect(checkout.start(USER, 'price_a')).rejects.toMatchObject({
        status: 409,
        code: 'subscription_exists',
      });
      expect(created).toEqual([]);
    },
  );

  it('an ended subscription does not block a new one', async () => {
    const { checkout, created } = checkoutWith({
      sessions: [],
      subscriptions: [{ status: 'canceled' }, { status: 'incomplete_expired' }],
    });
    await checkout.start(USER, 'price_a');
    expect(created).toHaveLength(1);
  });

  it('a price not on sale is 404 before Stripe is asked', async () => {
    const { checkout, created } = checkoutWith({ sessions: [], subscriptions: [] });
    await expect(checkout.start(USER, 'staff_plan')).rejects.toMatchObject({
      status: 404,
      code: 'price_not_found',
    });
    expect(created).toEqual([]);
  });
});
