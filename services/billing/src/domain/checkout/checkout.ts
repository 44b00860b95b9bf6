/**
 * Checkout Sessions for the user's one customer: subscription mode, with at
 * most one subscription per user however the clicks race; payment mode for
 * one-time prices (purchases, domain/purchases).
 *
 * Billing's own copy of subscriptions lags the webhooks, so it cannot decide
 * alone whether a user may start a checkout: a second checkout for another
 * price in that window used to create a second subscription (two charges,
 * both roles). So, per customer and under a lease (one holder at a time, in
 * every billing process, with no transaction open while Stripe is asked):
 * ask Stripe for the customer's live subscriptions (any: 409) and open
 * sessions; reuse an open session for the same price, expire every other
 * one, and only then create a new session. A customer therefore never has
 * two payable subscription sessions; when one completes, the others are
 * expired as well. One-time purchases (mode=payment) are left alone by both.
 *
 * Add-ons (domain/plans) are subscriptions beside the plan: the rule above
 * holds per base plan and per add-on product, and an add-on needs a live plan.
 * The offer (trial, promotion code: domain/plans/plans.ts) is decided before
 * the lease; an open session is reused only for the same price and offer.
 *
 * The idempotency key is per customer and intent ("the session that follows
 * the customer's newest one"), not per price: two creations racing past the
 * lease (it expired under a very slow Stripe) share a key, so Stripe makes
 * one session, or refuses the second when its price differs.
 */
import { currentTraceparent } from '@tollgate/service-kit';
import type Stripe from 'stripe';
import type { Config } from '../../config.js';
import { Problems } from '../../errors.js';
import { idOf, isResourceMissing } from '../../stripe/client.js';
import type { Catalog } from '../catalog/catalog.js';
import type { BillingUser, Customers } from '../customers/customers.js';
import { LIVE_STATUSES } from '../entitlements/entitlement.js';
import type { Leases } from '../leases/leases.js';
import type { CheckoutOffer, Plans } from '../plans/plans.js';
import type { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import type { CheckoutSessions } from './checkout-sessions.js';

export interface CheckoutDeps {
  /** A live one-time purchase of the product, if the user holds one (no second lifetime charge). */
  ownedPurchase(userId: string, productId: string): Promise<{ id: string } | null>;
  stripe: Stripe;
  catalog: Catalog;
  customers: Customers;
  subscriptions: Pick<SubscriptionsService, 'findLive' | 'findLiveAddons' | 'find'>;
  plans: Pick<Plans, 'checkoutOffer'>;
  /** The add-on products (the "already subscribed" rule is per plan, per add-on). */
  addonProducts: () => Promise<string[]>;
  sessions: CheckoutSessions;
  leases: Leases;
  urls: Config['urls'];
}

/** Longer than the Stripe calls of one checkout take; a crashed holder blocks the customer this long at most. */
const LEASE_TTL_MS = 60_000;
/** How long a second click waits for the first to finish before 409 `checkout_in_progress`. */
const LEASE_WAIT_MS = 20_000;
/** An open session this close to expiring is replaced rather than handed out again. */
const REUSE_MARGIN_MS = 10 * 60_000;
/** The success page asks Stripe about an unfinished session at most this often. */
const REFRESH_EVERY_SECONDS = 5;

const isLive = (status: string) => LIVE_STATUSES.includes(status);

/** A one-time purchase's offer: no trial, no promotion code (those are for plans). */
const PURCHASE_OFFER: CheckoutOffer = {
  addon: false,
  trialDays: null,
  trialNote: null,
  params: {},
  key: 'purchase',
};

/**
 * What a subscription checkout would start: the base plan, or one add-on product
 * (metadata `tollgate_kind`; sessions made before it existed were plan checkouts).
 * One live subscription and one open checkout per kind.
 */
export function checkoutKind(addonProductId: string | null): string {
  return addonProductId ? `addon:${addonProductId}` : 'plan';
}

function kindOf(session: Pick<Stripe.Checkout.Session, 'metadata'>): string {
  return session.metadata?.tollgate_kind ?? 'plan';
}

export function createCheckout({
  ownedPurchase,
  stripe,
  catalog,
  customers,
  subscriptions,
  plans,
  addonProducts,
  sessions,
  leases,
  urls,
}: CheckoutDeps) {
  async function start(user: BillingUser, priceId: string, options: { promotionCode?: string } = {}) {
    // Unknown, inactive and not-for-sale prices all look the same from outside.
    const price = await catalog.findPriceForSale(priceId);
    if (!price) throw Problems.priceNotFound(`no price ${priceId} on sale; see GET /api/v1/products`);
    // The price decides the mode: a one_time price is a purchase (mode=payment), not a subscription.
    if (!price.interval) return startPurchase(user, priceId, price.productId);
    const offer = await plans.checkoutOffer(user.id, price, options.promotionCode);
    // The mirror answers the common case without asking Stripe.
    const live = await subscriptions.findLive(user.id);
    if (offer.addon) {
      if (!live) throw Problems.basePlanRequired(`subscribe to a plan before adding ${price.product.name}`);
      const held = (await subscriptions.findLiveAddons(user.id, price.productId))[0];
      if (held) throw alreadySubscribed(held.status, price.product.name);
    } else if (live) throw alreadySubscribed(live.status);
    const customer = await customers.ensureCustomer(user);
    return leases.withLease(
      `checkout|${customer.id}`,
      {
        ttlMs: LEASE_TTL_MS,
        waitMs: LEASE_WAIT_MS,
        busy: () => Problems.checkoutInProgress('another checkout of yours is being started; try again'),
      },
      () => startLocked(user, customer.id, { id: priceId, productId: price.productId }, offer),
    );
  }

  /**
   * A one-time purchase (Checkout mode=payment): any live subscription is
   * fine; the same product already owned is not. Under the customer's lease,
   * an open session for the same price is handed out again.
   */
  async function startPurchase(user: BillingUser, priceId: string, productId: string) {
    const owned = await ownedPurchase(user.id, productId);
    if (owned) throw Problems.alreadyPurchased(`you already own this product (purchase ${owned.id})`);
    const customer = await customers.ensureCustomer(user);
    return leases.withLease(
      `checkout|${customer.id}`,
      {
        ttlMs: LEASE_TTL_MS,
        waitMs: LEASE_WAIT_MS,
        busy: () => Problems.checkoutInProgress('another checkout of yours is being started; try again'),
      },
      async () => {
        const open = await stripe.checkout.sessions.list({
          customer: customer.id,
          status: 'open',
          limit: 100,
        });
        const recorded = new Map((await sessions.findMany(open.data.map((s) => s.id))).map((r) => [r.id, r]));
        const reusable = open.data.find(
          (s) =>
            s.mode === 'payment' &&
            recorded.get(s.id)?.priceId === priceId &&
            s.url &&
            (s.expires_at ?? 0) * 1000 > Date.now() + REUSE_MARGIN_MS,
        );
        if (reusable) return view(reusable, PURCHASE_OFFER);
        const metadata = { userId: user.id, priceId };
        const session = await stripe.checkout.sessions.create(
          {
            mode: 'payment',
            customer: customer.id,
            client_reference_id: user.id,
            line_items: [{ price: priceId, quantity: 1 }],
            metadata,
            payment_intent_data: { metadata },
            success_url: urls.success,
            cancel_url: urls.cancel,
          },
          {
            idempotencyKey: `tollgate-purchase-${customer.id}-${priceId}-after-${open.data[0]?.id ?? 'none'}`,
          },
        );
        await sessions.record(session, user.id, priceId);
        return view(session, PURCHASE_OFFER);
      },
    );
  }

  function alreadySubscribed(stripeStatus: string, addon?: string) {
    const status = stripeStatus.replaceAll('_', ' ');
    const article = /^[aeiou]/.test(status) ? 'an' : 'a';
    return Problems.subscriptionExists(
      addon
        ? `you already have ${article} ${status} subscription to the add-on ${addon}`
        : `you already have ${article} ${status} subscription; change plan with POST /api/v1/subscription/change`,
    );
  }

  /** Holding the customer's lease: Stripe's view decides, not the (lagging) mirror. */
  async function startLocked(
    user: BillingUser,
    customerId: string,
    price: { id: string; productId: string },
    offer: CheckoutOffer,
  ) {
    const priceId = price.id;
    const [subscriptionList, sessionList, addonIds] = await Promise.all([
      stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 }),
      stripe.checkout.sessions.list({ customer: customerId, limit: 100 }),
      addonProducts(),
    ]);
    const productOf = (s: Stripe.Subscription) => idOf(s.items?.data?.[0]?.price.product ?? null);
    // Per base plan, per add-on: a live subscription of the same kind blocks this one.
    const sameKind = (s: Stripe.Subscription) => {
      const product = productOf(s);
      return offer.addon ? product === price.productId : !addonIds.includes(product ?? '');
    };
    const liveAtStripe = subscriptionList.data.find((s) => isLive(s.status) && sameKind(s));
    if (liveAtStripe) throw alreadySubscribed(liveAtStripe.status, offer.addon ? price.productId : undefined);
    if (
      offer.addon &&
      !subscriptionList.data.some((s) => isLive(s.status) && !addonIds.includes(productOf(s) ?? ''))
    )
      throw Problems.basePlanRequired('subscribe to a plan before adding an add-on');

    // Only an open checkout of the same kind (the plan, or this add-on) would be a second
    // subscription of that kind: open purchases (mode=payment) and other kinds stay payable.
    const kind = checkoutKind(offer.addon ? price.productId : null);
    const open = sessionList.data.filter(
      (s) => s.status === 'open' && s.mode !== 'payment' && kindOf(s) === kind,
    );
    const recorded = new Map((await sessions.findMany(open.map((s) => s.id))).map((r) => [r.id, r]));
    const reusable = open.find(
      (s) =>
        recorded.get(s.id)?.priceId === priceId &&
        s.metadata?.tollgate_offer === offer.key &&
        s.url &&
        (s.expires_at ?? 0) * 1000 > Date.now() + REUSE_MARGIN_MS,
    );
    for (const session of open) if (session !== reusable) await expireOpen(session.id);
    if (reusable) return view(reusable, offer);

    const newest = sessionList.data[0]?.id ?? 'none';
    let session: Stripe.Checkout.Session;
    try {
      // With tracing on, the events of this checkout carry its trace: their jobs continue it (ADR 0025).
      const traceparent = currentTraceparent();
      const traced: Record<string, string> = traceparent ? { traceparent } : {};
      session = await stripe.checkout.sessions.create(
        {
          mode: 'subscription',
          customer: customerId,
          client_reference_id: user.id,
          line_items: [{ price: priceId, quantity: 1 }],
          metadata: { userId: user.id, tollgate_offer: offer.key, tollgate_kind: kind, ...traced },
          subscription_data: {
            metadata: { userId: user.id, ...traced },
            ...(offer.trialDays ? { trial_period_days: offer.trialDays } : {}),
          },
          ...offer.params,
          success_url: urls.success,
          cancel_url: urls.cancel,
        },
        { idempotencyKey: `tollgate-checkout-${customerId}-after-${newest}` },
      );
    } catch (error) {
      if ((error as { type?: string }).type === 'StripeIdempotencyError')
        throw Problems.checkoutInProgress('another checkout of yours is being started; try again');
      throw error;
    }
    await sessions.record(session, user.id, priceId);
    return view(session, offer);
  }

  /** Expires an open session; one that completed meanwhile means a subscription is on its way. */
  async function expireOpen(sessionId: string) {
    try {
      await sessions.update(await stripe.checkout.sessions.expire(sessionId));
    } catch (error) {
      const now = await stripe.checkout.sessions.retrieve(sessionId).catch(() => null);
      if (now?.status === 'complete') throw alreadySubscribed('new');
      if (now?.status !== 'expired') throw error;
      await sessions.update(now);
    }
  }

  function view(session: Stripe.Checkout.Session, offer: CheckoutOffer) {
    return {
      checkout_session_id: session.id,
      checkout_session_url: session.url as string,
      trial_period_days: offer.trialDays,
      trial_note: offer.trialNote,
      amount_discount: session.total_details?.amount_discount ?? 0,
    };
  }

  /**
   * A session completed (webhook): record it, and expire every other open
   * session of the customer so nothing else can be paid.
   */
  async function sessionCompleted(sessionId: string): Promise<Stripe.Checkout.Session> {
    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] });
    await sessions.update(session);
    const customerId = typeof session.customer === 'string' ? session.customer : session.customer?.id;
    // A one-time purchase leaves the customer's other sessions alone (it starts no subscription).
    if (customerId && session.mode === 'subscription') {
      const others = await stripe.checkout.sessions.list({
        customer: customerId,
        status: 'open',
        limit: 100,
      });
      // Only other subscription checkouts of the same kind: a one-time purchase, or an add-on
      // started while the plan's completion was still on its way, is not a second plan.
      for (const other of others.data)
        if (other.id !== session.id && other.mode === 'subscription' && kindOf(other) === kindOf(session))
          await expireOpen(other.id).catch(() => {});
    }
    return session;
  }

  /** Any other session change (expired, async payment): the mirror follows Stripe. */
  async function sessionChanged(sessionId: string) {
    await sessions.update(await stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] }));
  }

  /**
   * What the success page shows, from the mirror: unknown ids are 404 with no
   * Stripe call; an unfinished session is re-read from Stripe at most every
   * few seconds, by whichever request claims it.
   */
  async function describeSession(sessionId: string) {
    let row = await sessions.find(sessionId);
    if (!row) throw Problems.checkoutSessionNotFound(`no checkout session ${sessionId}`);
    if (row.status === 'open' && (await sessions.claimRefresh(sessionId, REFRESH_EVERY_SECONDS))) {
      try {
        row =
          (await sessions.update(
            await stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] }),
          )) ?? row;
      } catch (error) {
        if (!isResourceMissing(error)) throw error;
      }
    }
    const [price, subscription] = await Promise.all([
      catalog.findPrice(row.priceId),
      row.subscriptionId ? subscriptions.find(row.subscriptionId) : null,
    ]);
    return {
      id: row.id,
      status: row.status,
      paymentStatus: row.paymentStatus,
      planName: price?.product.name ?? null,
      role: price?.product.role ?? null,
      amount: price?.unitAmount ?? null,
      currency: price?.currency ?? null,
      interval: price?.interval ?? null,
      subscriptionStatus: subscription?.status ?? row.subscriptionStatus ?? null,
      subscriptionId: row.subscriptionId,
    };
  }

  return { start, sessionCompleted, sessionChanged, describeSession };
}

export type Checkout = ReturnType<typeof createCheckout>;
