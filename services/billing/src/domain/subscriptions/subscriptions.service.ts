/**
 * What a user can do with their subscription: see it, cancel at period end,
 * resume, change plan. "The subscription" is the base plan's: add-ons
 * (domain/plans/addons.ts) are subscriptions of their own beside it.
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import type { Catalog } from '../catalog/catalog.js';
import { LIVE_STATUSES } from '../entitlements/entitlement.js';
import { addonProductIds, baseOnly } from '../plans/addons.js';
import { isAddonProduct } from '../plans/plan-kinds.js';
import { isSetToCancel, mainItem, type SubscriptionSync } from './subscription-sync.js';

export interface SubscriptionsDeps {
  db: Db;
  stripe: Stripe;
  catalog: Catalog;
  sync: SubscriptionSync;
}

export function createSubscriptionsService({ db, stripe, catalog, sync }: SubscriptionsDeps) {
  /** The user's live base-plan subscription (newest first), if any. */
  async function findLive(userId: string) {
    return db.subscription.findFirst({
      where: { userId, status: { in: LIVE_STATUSES }, ...baseOnly(await addonProductIds(db)) },
      orderBy: { stripeCreatedAt: 'desc' },
    });
  }

  /** The user's live add-on subscriptions (of one add-on product when given), newest first. */
  async function findLiveAddons(userId: string, productId?: string) {
    const addonIds = await addonProductIds(db);
    const products = productId ? addonIds.filter((id) => id === productId) : addonIds;
    if (!products.length) return [];
    return db.subscription.findMany({
      where: { userId, status: { in: LIVE_STATUSES }, productId: { in: products } },
      orderBy: { stripeCreatedAt: 'desc' },
    });
  }

  async function find(subscriptionId: string) {
    return db.subscription.findUnique({ where: { id: subscriptionId } });
  }

  /** The live subscription, else the most recent ended one. */
  async function current(userId: string) {
    const live = await findLive(userId);
    const row =
      live ??
      (await db.subscription.findFirst({
        where: { userId, ...baseOnly(await addonProductIds(db)) },
        orderBy: { stripeCreatedAt: 'desc' },
      }));
    if (!row)
      throw Problems.subscriptionNotFound('you have no subscription; start one with POST /api/v1/checkout');
    return view(row.id);
  }

  async function view(subscriptionId: string) {
    const row = await db.subscription.findUniqueOrThrow({ where: { id: subscriptionId } });
    const price = row.priceId ? await catalog.findPrice(row.priceId) : null;
    return { ...row, price };
  }

  async function requireLive(userId: string) {
    const live = await findLive(userId);
    if (!live) throw Problems.subscriptionNotFound('you have no active subscription');
    return live;
  }

  async function cancelAtPeriodEnd(userId: string) {
    const live = await requireLive(userId);
    // Idempotent: asking again for a subscription already set to cancel changes nothing.
    if (!isSetToCancel(live)) await stripe.subscriptions.update(live.id, { cancel_at_period_end: true });
    await sync.sync(live.id, { type: 'user_action', detail: 'cancel at period end' });
    return view(live.id);
  }

  async function resume(userId: string) {
    const live = await requireLive(userId);
    if (!isSetToCancel(live))
      throw Problems.subscriptionNotCanceling(
        'the subscription is not set to cancel, so there is nothing to resume',
      );
    // Flexible billing mode (the portal) sets only cancel_at; classic sets cancel_at_period_end.
    await stripe.subscriptions.update(
      live.id,
      live.cancelAtPeriodEnd ? { cancel_at_period_end: false } : { cancel_at: '' },
    );
    await sync.sync(live.id, { type: 'user_action', detail: 'resume' });
    return view(live.id);
  }

  /** Throws the problem a plan change to `priceId` would meet, before anything is changed. */
  async function checkPlanChange(userId: string, priceId: string) {
    const live = await requireLive(userId);
    const price = await catalog.findPriceForSale(priceId);
    if (!price) throw Problems.priceNotFound(`no price ${priceId} on sale; see GET /api/v1/products`);
    if (!price.interval) throw Problems.priceNotRecurring(`${priceId} is a one-time price`);
    if (isAddonProduct(price.product))
      throw Problems.notABasePlan(`${priceId} is an add-on; buy it with GET /api/v1/checkout`);
    if (live.priceId === priceId) throw Problems.samePrice(`the subscription is already on ${priceId}`);
    return live;
  }

  /**
   * The plan changes now, prorated, on the subscription checkPlanChange returned (a pending
   * period-end change must be dropped in between: PlanChanges.changeNow).
   */
  async function changePlan(live: { id: string }, priceId: string) {
    const subscription = await stripe.subscriptions.retrieve(live.id);
    const item = mainItem(subscription);
    if (!item) throw Problems.subscriptionNotFound('the subscription has no item to change');
    await stripe.subscriptions.update(live.id, {
      items: [{ id: item.id, price: priceId }],
      proration_behavior: 'create_prorations',
    });
    await sync.sync(live.id, { type: 'user_action', detail: `change plan to ${priceId}` });
    return view(live.id);
  }

  return {
    findLive,
    findLiveAddons,
    find,
    view,
    current,
    cancelAtPeriodEnd,
    resume,
    checkPlanChange,
    changePlan,
  };
}

export type SubscriptionsService = ReturnType<typeof createSubscriptionsService>;
