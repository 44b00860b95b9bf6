/**
 * Trials: `trial_period_days`, `trial_end` (create and update) and Checkout's
 * `subscription_data[trial_period_days]`. A trialing subscription's items run
 * from the start to `trial_end`, its first invoice is for 0, and it needs no
 * payment method (`trial_settings.end_behavior.missing_payment_method:
 * create_invoice`). Stripe sends `customer.subscription.trial_will_end` three
 * days before the end (at once when the trial is shorter); at the end the
 * first real period starts and its invoice is charged like a renewal's.
 */
import type Stripe from 'stripe';
import type { Emulator } from '../core/emulator.js';
import { invalidParam, invalidRequest } from '../core/errors.js';
import type { Params } from '../core/params.js';
import { nextBoundary } from './periods.js';

const DAY = 86400;
export const TRIAL_WILL_END_NOTICE_SECONDS = 3 * DAY;
/** Stripe caps trials at two years. */
const MAX_TRIAL_SECONDS = 730 * DAY;

/** The trial end asked for by `trial_end` or `trial_period_days` (or the price's default), or null. */
export function requestedTrialEnd(params: Params, at: number, prices: Stripe.Price[]): number | null {
  const days = params.integer('trial_period_days');
  const rawEnd = params.string('trial_end');
  if (days !== undefined && rawEnd !== undefined && rawEnd !== '') {
    throw invalidRequest(
      'You may only specify one of these parameters: trial_end, trial_period_days.',
      'trial_end',
    );
  }
  let end: number | null = null;
  if (days !== undefined) {
    if (days < 0) throw invalidParam('trial_period_days', 'This value must be greater than or equal to 0.');
    end = days === 0 ? null : at + days * DAY;
  } else if (rawEnd !== undefined && rawEnd !== '' && rawEnd !== 'now') {
    const when = params.integer('trial_end') ?? 0;
    if (when <= at) {
      throw invalidParam('trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.');
    }
    end = when;
  } else if (params.boolean('trial_from_plan')) {
    const fromPrice = prices.map((p) => p.recurring?.trial_period_days ?? 0).find((d) => d > 0);
    end = fromPrice ? at + fromPrice * DAY : null;
  }
  if (end !== null && end - at > MAX_TRIAL_SECONDS) {
    throw invalidParam('trial_end', 'Trials may last at most 730 days.');
  }
  return end;
}

/** Puts a new subscription in trial until `end`: items' first period is the trial. */
export function startTrial(sub: Stripe.Subscription, at: number, end: number): void {
  sub.status = 'trialing';
  sub.trial_start = at;
  sub.trial_end = end;
  sub.billing_cycle_anchor = end;
  for (const item of sub.items.data) {
    item.current_period_start = at;
    item.current_period_end = end;
  }
}

/**
 * `trial_end` on update: moves the end of a running trial (and the items'
 * period with it), or, with `now`, ends it at once: the subscription turns
 * active and its first paid period starts now (the caller bills it).
 * Returns true when the trial was ended now.
 */
export function applyTrialEndParam(sub: Stripe.Subscription, params: Params, at: number): boolean {
  if (!params.has('trial_end')) return false;
  if (sub.status !== 'trialing') {
    throw invalidRequest('The emulator changes `trial_end` only on a trialing subscription.', 'trial_end');
  }
  if (params.string('trial_end') === 'now') {
    sub.status = 'active';
    sub.trial_end = at;
    sub.billing_cycle_anchor = at;
    for (const item of sub.items.data) {
      item.current_period_start = at;
      item.current_period_end = nextBoundary(at, item.price, at);
    }
    return true;
  }
  const when = params.integer('trial_end');
  if (when === undefined || when <= at) {
    throw invalidParam('trial_end', 'Invalid timestamp: must be an integer Unix timestamp in the future.');
  }
  sub.trial_end = when;
  sub.billing_cycle_anchor = when;
  for (const item of sub.items.data) item.current_period_end = when;
  return false;
}

/** When `trial_will_end` is due for this subscription, or null when it is not trialing or was sent. */
export function trialNoticeAt(em: Emulator, sub: Stripe.Subscription): number | null {
  if (sub.status !== 'trialing' || sub.trial_end === null) return null;
  if (em.store.trialNotices.has(`${sub.id}:${sub.trial_end}`)) return null;
  return Math.max(sub.trial_end - TRIAL_WILL_END_NOTICE_SECONDS, sub.trial_start ?? sub.created);
}

export function sendTrialWillEnd(em: Emulator, sub: Stripe.Subscription, at: number): void {
  if (sub.trial_end === null) return;
  em.store.trialNotices.add(`${sub.id}:${sub.trial_end}`);
  em.emit('customer.subscription.trial_will_end', sub, { at });
}
