/** `cancel_at_period_end` and `cancel_at` on update: scheduling and clearing a cancellation. */
import type Stripe from 'stripe';
import { invalidRequest } from '../core/errors.js';
import type { Params } from '../core/params.js';
import { periodOf } from './periods.js';

export function scheduleCancel(
  sub: Stripe.Subscription,
  when: number,
  atPeriodEnd: boolean,
  at: number,
): void {
  sub.cancel_at = when;
  sub.cancel_at_period_end = atPeriodEnd;
  sub.canceled_at = at;
  sub.cancellation_details = {
    comment: sub.cancellation_details?.comment ?? null,
    feedback: sub.cancellation_details?.feedback ?? null,
    feedback_option: null,
    reason: 'cancellation_requested',
  };
}

export function clearCancel(sub: Stripe.Subscription): void {
  sub.cancel_at = null;
  sub.cancel_at_period_end = false;
  sub.canceled_at = null;
  sub.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: null };
}

/** `cancel_at_period_end` (true/false) and `cancel_at` (a time, `min_period_end`/`max_period_end`, or '' to clear). */
export function applyCancellationParams(sub: Stripe.Subscription, params: Params, at: number): void {
  const { end } = periodOf(sub);
  if (params.has('cancel_at_period_end')) {
    const flag = params.boolean('cancel_at_period_end') ?? false;
    if (flag) scheduleCancel(sub, end, true, at);
    else clearCancel(sub);
  }
  if (params.has('cancel_at')) {
    const raw = params.string('cancel_at');
    if (raw === '') clearCancel(sub);
    else if (raw === 'min_period_end' || raw === 'max_period_end') scheduleCancel(sub, end, false, at);
    else {
      const when = params.integer('cancel_at') ?? 0;
      if (when <= at) throw invalidRequest('cancel_at must be in the future.', 'cancel_at');
      scheduleCancel(sub, when, false, at);
    }
  }
}

/** `cancellation_details[comment|feedback]`, allowed even on a canceled subscription. */
export function applyCancellationDetails(sub: Stripe.Subscription, params: Params): void {
  const details = params.object('cancellation_details', ['comment', 'feedback']);
  if (!details || !sub.cancellation_details) return;
  if (details.has('comment')) sub.cancellation_details.comment = details.nullableString('comment') ?? null;
  if (details.has('feedback')) {
    sub.cancellation_details.feedback =
      (details.nullableString('feedback') as Stripe.Subscription.CancellationDetails.Feedback | null) ?? null;
  }
}
