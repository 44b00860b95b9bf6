/**
 * Plans beyond "one price, one subscription" (issue 12, items 5-7 and 9):
 * what a checkout offers (trial, promotion code), what a completed checkout
 * records (the trial decision, the discount), and the user's subscriptions as
 * the API shows them (the base plan with its trial, discount and pending
 * change, and its add-ons beside it).
 */
import type Stripe from 'stripe';
import type { Catalog } from '../catalog/catalog.js';
import type { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import type { PlanChanges } from './plan-changes.js';
import { isAddonProduct, trialDaysOf } from './plan-kinds.js';
import type { Promotions } from './promotions.js';
import type { Trials } from './trials.js';

export interface PlansDeps {
  trials: Trials;
  promotions: Promotions;
  planChanges: PlanChanges;
  subscriptions: Pick<SubscriptionsService, 'current' | 'view' | 'findLiveAddons'>;
  catalog: Pick<Catalog, 'findPrice'>;
}

interface PriceForSale {
  id: string;
  raw: unknown;
  product: { id: string; raw: unknown };
}

export interface CheckoutOffer {
  addon: boolean;
  trialDays: number | null;
  /** Why a price that offers a trial gives none to this user. */
  trialNote: string | null;
  /** The Checkout Session parameters the offer adds. */
  params: Pick<Stripe.Checkout.SessionCreateParams, 'discounts' | 'allow_promotion_codes'>;
  /** Tells one offer from another: an open session is only reused for the same offer. */
  key: string;
}

export function createPlans({ trials, promotions, planChanges, subscriptions, catalog }: PlansDeps) {
  /**
   * What a checkout of `price` gives this user: the trial (not on add-ons; not
   * twice) and either the promotion code asked for (resolved now, so a bad
   * one is a 404 before any session exists) or a field for one on Stripe's page.
   */
  async function checkoutOffer(userId: string, price: PriceForSale, code?: string): Promise<CheckoutOffer> {
    const addon = isAddonProduct(price.product);
    const trial = addon
      ? { days: null, note: null }
      : await trials.offer(userId, trialDaysOf(price, price.product));
    const promo = code ? await promotions.resolve(code) : null;
    return {
      addon,
      trialDays: trial.days,
      trialNote: trial.note,
      params: promo ? { discounts: [{ promotion_code: promo.id }] } : { allow_promotion_codes: true },
      key: `trial:${trial.days ?? 0}|promo:${promo?.id ?? 'any'}`,
    };
  }

  /** A checkout completed (webhook): record its discount, keep or refuse its trial. */
  async function afterCheckout(session: Stripe.Checkout.Session) {
    if (session.mode !== 'subscription') return;
    await promotions.recordFromCheckout(session);
    const subscription =
      typeof session.subscription === 'object' && session.subscription ? session.subscription : null;
    const userId = session.client_reference_id ?? session.metadata?.userId ?? null;
    if (subscription && userId) await trials.checkCompletedTrial(userId, subscription);
  }

  /** Extras of one subscription: its trial, its discount, its pending change. */
  async function extrasOf(subscriptionId: string) {
    const [trial, discount, pendingChange] = await Promise.all([
      trials.forSubscription(subscriptionId),
      promotions.forSubscription(subscriptionId),
      planChanges.pendingFor(subscriptionId),
    ]);
    const pendingPrice = pendingChange ? await catalog.findPrice(pendingChange.toPriceId) : null;
    return { trial, discount, pendingChange, pendingPrice };
  }

  /** GET /subscription: the base plan (live, else latest) with its extras, and the live add-ons. */
  async function describe(userId: string) {
    const base = await subscriptions.current(userId);
    const addonRows = await subscriptions.findLiveAddons(userId);
    const addons = await Promise.all(
      addonRows.map(async (row) => ({ ...(await subscriptions.view(row.id)), ...(await extrasOf(row.id)) })),
    );
    return { ...base, ...(await extrasOf(base.id)), addons };
  }

  return { checkoutOffer, afterCheckout, describe, extrasOf, trials, promotions };
}

export type Plans = ReturnType<typeof createPlans>;
