/**
 * Plan changes (POST/DELETE /api/v1/subscription/change).
 *
 * An upgrade takes effect now: the item moves to the new price and Stripe
 * invoices the prorated difference at once (`always_invoice`; during a trial
 * nothing was paid, so nothing is prorated). A downgrade waits for the period
 * end, so the period paid for is kept: a Stripe subscription schedule made
 * from the subscription gets two phases, the current price until the period
 * end, then the new one; Stripe switches the price at the renewal, before it
 * invoices, and the schedule releases the subscription after that phase. The
 * pending change is mirrored in `plan_changes` (what the API and the account
 * page show) and cancelled by releasing the schedule. Why a schedule and not
 * a change applied by billing at renewal: architecture/decisions/0019-plans.md.
 */
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { fromUnix, idOf } from '../../stripe/client.js';
import type { Catalog } from '../catalog/catalog.js';
import { mainItem, type SubscriptionSync } from '../subscriptions/subscription-sync.js';
import type { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import { changeDirection, isAddonProduct } from './plan-kinds.js';

export interface PlanChangesDeps {
  db: Db;
  stripe: Stripe;
  catalog: Pick<Catalog, 'findPrice' | 'findPriceForSale'>;
  subscriptions: Pick<SubscriptionsService, 'findLive' | 'checkPlanChange' | 'changePlan'>;
  sync: Pick<SubscriptionSync, 'sync'>;
}

const FINISHED_SCHEDULE = ['released', 'canceled', 'completed'];

export function createPlanChanges({ db, stripe, catalog, subscriptions, sync }: PlanChangesDeps) {
  async function pendingFor(subscriptionId: string) {
    return db.planChange.findFirst({ where: { subscriptionId, status: 'pending' } });
  }

  async function requireLive(userId: string) {
    const live = await subscriptions.findLive(userId);
    if (!live) throw Problems.subscriptionNotFound('you have no active subscription');
    return live;
  }

  /** Releases a schedule unless it is finished already (a retry, or released elsewhere). */
  async function release(scheduleId: string) {
    const schedule = await stripe.subscriptionSchedules.retrieve(scheduleId);
    if (!FINISHED_SCHEDULE.includes(schedule.status)) await stripe.subscriptionSchedules.release(scheduleId);
  }

  async function cancelPending(change: { id: string; scheduleId: string }) {
    await release(change.scheduleId);
    await db.planChange.update({ where: { id: change.id }, data: { status: 'canceled' } });
  }

  async function change(userId: string, priceId: string) {
    const live = await requireLive(userId);
    const target = await catalog.findPriceForSale(priceId);
    if (!target) throw Problems.priceNotFound(`no price ${priceId} on sale; see GET /api/v1/products`);
    if (!target.interval) throw Problems.priceNotRecurring(`${priceId} is a one-time price`);
    if (isAddonProduct(target.product))
      throw Problems.notABasePlan(`${priceId} is an add-on; buy it with GET /api/v1/checkout`);
    const open = await pendingFor(live.id);
    if (live.priceId === priceId) {
      // Back to the current plan while a downgrade waits: that is keeping the plan.
      if (open) {
        await cancelPending(open);
        return 'kept' as const;
      }
      throw Problems.samePrice(`the subscription is already on ${priceId}`);
    }
    const current = live.priceId ? await catalog.findPrice(live.priceId) : null;
    const direction = current ? changeDirection(current, target) : 'upgrade';
    const subscription = await stripe.subscriptions.retrieve(live.id);
    const item = mainItem(subscription);
    if (!item) throw Problems.subscriptionNotFound('the subscription has no item to change');
    if (direction === 'upgrade') {
      if (open) await cancelPending(open);
      else {
        const attached = idOf(subscription.schedule);
        if (attached) await release(attached);
      }
      await stripe.subscriptions.update(live.id, {
        items: [{ id: item.id, price: priceId }],
        proration_behavior: subscription.status === 'trialing' ? 'none' : 'always_invoice',
      });
      await sync.sync(live.id, { type: 'user_action', detail: `upgrade to ${priceId}` });
      return direction;
    }
    await scheduleDowngrade(userId, subscription, item, target, open?.id ?? null);
    return direction;
  }

  async function scheduleDowngrade(
    userId: string,
    subscription: Stripe.Subscription,
    item: Stripe.SubscriptionItem,
    target: { id: string; interval: string | null; intervalCount: number | null },
    openId: string | null,
  ) {
    const priceId = target.id;
    const scheduleId =
      idOf(subscription.schedule) ??
      // No idempotency key of ours: a schedule released earlier would be handed back for the same key.
      (await stripe.subscriptionSchedules.create({ from_subscription: subscription.id })).id;
    const schedule = await stripe.subscriptionSchedules.retrieve(scheduleId);
    const start = schedule.current_phase?.start_date ?? item.current_period_start;
    const effective = item.current_period_end;
    await stripe.subscriptionSchedules.update(scheduleId, {
      end_behavior: 'release',
      phases: [
        {
          items: [{ price: item.price.id, quantity: item.quantity ?? 1 }],
          start_date: start,
          end_date: effective,
        },
        {
          items: [{ price: priceId, quantity: 1 }],
          // One billing period of the new price; then the schedule releases the subscription.
          duration: {
            interval: (target.interval ??
              'month') as Stripe.SubscriptionScheduleUpdateParams.Phase.Duration.Interval,
            interval_count: target.intervalCount ?? 1,
          },
        },
      ],
    });
    const row = {
      toPriceId: priceId,
      fromPriceId: item.price.id,
      effectiveAt: fromUnix(effective) as Date,
      scheduleId,
    };
    if (openId) await db.planChange.update({ where: { id: openId }, data: row });
    else
      await db.planChange.create({
        data: { id: randomUUID(), subscriptionId: subscription.id, userId, status: 'pending', ...row },
      });
  }

  /** DELETE /subscription/change: the pending downgrade is dropped; the plan stays. */
  async function cancel(userId: string) {
    const live = await requireLive(userId);
    const open = await pendingFor(live.id);
    if (!open) throw Problems.planChangeNotFound('no plan change is waiting for the period end');
    await cancelPending(open);
  }

  /**
   * Before a cancel at period end: Stripe refuses to change the cancellation
   * of a subscription a schedule manages, and a cancelled plan has nothing to
   * change to. Drops the pending change and lets go of any schedule still
   * attached (one stays attached for the period after its change applied).
   */
  async function detachSchedule(userId: string) {
    const live = await subscriptions.findLive(userId);
    if (!live) return;
    const open = await pendingFor(live.id);
    if (open) return cancelPending(open);
    const attached = (live.raw as { schedule?: string | { id: string } | null } | null)?.schedule;
    if (attached) await release(idOf(attached) as string);
  }

  /**
   * PUT /subscription: the plan changes now, prorated, in either direction.
   * A downgrade waiting for the period end is dropped first (its schedule
   * would otherwise still switch the subscription at the renewal, undoing an
   * upgrade paid for now), and only once the change is known to be valid.
   */
  async function changeNow(userId: string, priceId: string) {
    const live = await subscriptions.checkPlanChange(userId, priceId);
    await detachSchedule(userId);
    await subscriptions.changePlan(live, priceId);
  }

  /**
   * A schedule changed at Stripe (webhook): its next phase started (the change
   * is applied), or it was released or canceled before (dropped, e.g. in the portal).
   */
  async function scheduleChanged(scheduleId: string) {
    const open = await db.planChange.findFirst({ where: { scheduleId, status: 'pending' } });
    if (!open) return;
    const schedule = await stripe.subscriptionSchedules.retrieve(scheduleId);
    const started = (schedule.current_phase?.start_date ?? 0) * 1000 >= open.effectiveAt.getTime();
    let status: string | null = started ? 'applied' : null;
    if (!status && FINISHED_SCHEDULE.includes(schedule.status)) {
      const subscription = await stripe.subscriptions.retrieve(open.subscriptionId);
      status = mainItem(subscription)?.price.id === open.toPriceId ? 'applied' : 'canceled';
    }
    if (status) await db.planChange.update({ where: { id: open.id }, data: { status } });
  }

  return { change, changeNow, cancel, pendingFor, scheduleChanged, detachSchedule };
}

export type PlanChanges = ReturnType<typeof createPlanChanges>;
