/**
 * Trials: one per user ever, and one per card.
 *
 * Before checkout we know the user but not the card, so the offer is decided
 * in two steps (architecture/decisions/0019-plans.md):
 * 1. at checkout start, a user who has had a trial gets none (the checkout
 *    proceeds at full price and says why); anyone else gets the price's trial;
 * 2. when the checkout completes (webhook), the card's fingerprint
 *    (payment_method.card.fingerprint, the same for one card number across
 *    customers) is checked: when it already carried a trial on another
 *    account, the trial is ended at once (`trial_end=now`, Stripe charges the
 *    first period) and the row says why, for the success and account pages.
 * A partial unique index (one granted row per fingerprint) settles two
 * accounts racing with the same card.
 */
import type Stripe from 'stripe';
import { type Db, isUniqueViolation } from '../../db/prisma.js';
import { fromUnix, idOf } from '../../stripe/client.js';

export const TRIAL_USED_NOTE =
  'You have had a free trial already, so this subscription starts at once and is charged now.';
export const CARD_HAD_TRIAL_NOTE =
  'No free trial: this card already had one on another account, so the first period was charged now.';

export interface TrialsDeps {
  db: Db;
  stripe: Stripe;
}

export function createTrials({ db, stripe }: TrialsDeps) {
  /** Whether this user has had a trial (a granted one; a refused one gave nothing). */
  async function hadTrial(userId: string): Promise<boolean> {
    return (await db.planTrial.count({ where: { userId, outcome: 'granted' } })) > 0;
  }

  /** The trial a checkout of a price offering `days` gives this user, and why not when it gives none. */
  async function offer(userId: string, days: number | null) {
    if (!days) return { days: null, note: null };
    if (await hadTrial(userId)) return { days: null, note: TRIAL_USED_NOTE };
    return { days, note: null };
  }

  async function fingerprintOf(subscription: Stripe.Subscription): Promise<string | null> {
    let pm = subscription.default_payment_method;
    if (!pm) {
      const customerId = idOf(subscription.customer);
      const customer = customerId ? await stripe.customers.retrieve(customerId) : null;
      pm = customer && !customer.deleted ? (customer.invoice_settings?.default_payment_method ?? null) : null;
    }
    if (!pm) return null;
    const method = typeof pm === 'string' ? await stripe.paymentMethods.retrieve(pm) : pm;
    return method.card?.fingerprint ?? null;
  }

  async function endTrialNow(subscriptionId: string) {
    await stripe.subscriptions.update(
      subscriptionId,
      { trial_end: 'now' },
      { idempotencyKey: `tollgate-refuse-trial-${subscriptionId}` },
    );
  }

  /**
   * A checkout completed with a trialing subscription: keep the trial, or end
   * it now when the user or the card has had one. Safe to run again (webhook
   * retries): a recorded decision is only carried out again, never re-made.
   */
  async function checkCompletedTrial(userId: string, subscription: Stripe.Subscription) {
    if (subscription.status !== 'trialing' || !subscription.trial_end) return;
    const known = await db.planTrial.findUnique({ where: { subscriptionId: subscription.id } });
    if (known) {
      if (known.outcome === 'refused') await endTrialNow(subscription.id);
      return;
    }
    const fingerprint = await fingerprintOf(subscription);
    const base = {
      subscriptionId: subscription.id,
      userId,
      customerId: idOf(subscription.customer) as string,
      trialDays: Math.round(((subscription.trial_end ?? 0) - (subscription.trial_start ?? 0)) / 86_400),
      fingerprint,
      trialEnd: fromUnix(subscription.trial_end),
    };
    const earlier = fingerprint
      ? await db.planTrial.findFirst({
          where: { fingerprint, outcome: 'granted', NOT: { userId } },
          select: { subscriptionId: true },
        })
      : null;
    let reason = earlier ? CARD_HAD_TRIAL_NOTE : (await hadTrial(userId)) ? TRIAL_USED_NOTE : null;
    if (!reason) {
      try {
        await db.planTrial.create({ data: { ...base, outcome: 'granted' } });
        return;
      } catch (error) {
        // Another account won the race for this card's one trial (a retry of this
        // webhook fails here too, on the primary key, and finds the row next time).
        if (!isUniqueViolation(error)) throw error;
        reason = CARD_HAD_TRIAL_NOTE;
      }
    }
    await db.planTrial.create({ data: { ...base, outcome: 'refused', reason, trialEnd: null } });
    await endTrialNow(subscription.id);
  }

  /** `customer.subscription.trial_will_end`: recorded, so the account page can say the trial ends soon. */
  async function recordTrialWillEnd(subscription: Stripe.Subscription, at: Date) {
    await db.planTrial.updateMany({
      where: { subscriptionId: subscription.id },
      data: { willEndNotifiedAt: at, trialEnd: fromUnix(subscription.trial_end) },
    });
  }

  async function forSubscription(subscriptionId: string) {
    return db.planTrial.findUnique({ where: { subscriptionId } });
  }

  return { offer, hadTrial, checkCompletedTrial, recordTrialWillEnd, forSubscription };
}

export type Trials = ReturnType<typeof createTrials>;
