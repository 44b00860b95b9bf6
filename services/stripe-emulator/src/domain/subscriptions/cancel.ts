/** Ending a subscription now (`DELETE`, customer deletion, final failed retry) and past_due. */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import { Params } from '../core/params.js';
import { ENDED } from './periods.js';

export function cancelSubscriptionNow(
  em: Emulator,
  sub: Stripe.Subscription,
  req: RequestInfo,
  reason: Stripe.Subscription.CancellationDetails.Reason,
  at = em.timeOf(sub.test_clock),
): Stripe.Subscription {
  if (ENDED.includes(sub.status)) {
    throw invalidRequest(
      `No such subscription: '${sub.id}' is already canceled.`,
      undefined,
      'resource_missing',
    );
  }
  sub.status = 'canceled';
  sub.canceled_at = at;
  sub.ended_at = at;
  sub.cancel_at = null;
  sub.cancel_at_period_end = false;
  sub.cancellation_details = {
    comment: sub.cancellation_details?.comment ?? null,
    feedback: sub.cancellation_details?.feedback ?? null,
    feedback_option: null,
    reason,
  };
  em.emit('customer.subscription.deleted', sub, { request: req, at });
  return sub;
}

export function cancelSubscription(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.Subscription {
  const params = new Params(p.raw, ['invoice_now', 'prorate', 'cancellation_details']);
  const sub = em.store.subscriptions.require(id);
  if (ENDED.includes(sub.status)) {
    throw invalidRequest(
      'A canceled subscription can only update its cancellation_details and metadata.',
      undefined,
      'subscription_canceled',
    );
  }
  const details = params.object('cancellation_details', ['comment', 'feedback']);
  if (details && sub.cancellation_details) {
    sub.cancellation_details.comment = details.nullableString('comment') ?? null;
    sub.cancellation_details.feedback =
      (details.nullableString('feedback') as Stripe.Subscription.CancellationDetails.Feedback | null) ?? null;
  }
  // Stripe records no idempotency key on the event of a DELETE.
  return cancelSubscriptionNow(em, sub, { id: req.id, idempotencyKey: null }, 'cancellation_requested');
}

export function markPastDue(em: Emulator, sub: Stripe.Subscription, at: number): void {
  if (sub.status !== 'active' && sub.status !== 'trialing') return;
  const before = structuredClone(sub);
  sub.status = 'past_due';
  em.emit('customer.subscription.updated', sub, { previous: before, at });
}

// ---- what time does ----------------------------------------------------------
