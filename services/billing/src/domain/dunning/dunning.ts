/**
 * The dunning policy: what a subscription whose renewal failed still gives,
 * as an explicit state machine over Stripe's status and the time since the
 * first failed renewal. Pure: the subscription apply step and the sweep call
 * it, the account page and GET /subscription show its answer.
 *
 *   active --(renewal fails: past_due)--> past_due --(restrictAfterDays)--> restricted
 *      ^                                     |                                  |
 *      +------------(invoice.paid)-----------+----------------------------------+
 *   past_due/restricted --(pastDueDays, or Stripe ends it: unpaid/canceled)--> revoked
 *
 * By default past_due keeps full access for 14 days, the end of Stripe's
 * default retry schedule (Smart Retries: up to 8 tries within 2 weeks), and
 * there is no restricted step. Stripe itself ends the subscription
 * (unpaid/canceled) when its retries run out, which revokes at once.
 */
import type { FeatureSet } from '@tollgate/contracts';

export type DunningState = 'active' | 'past_due' | 'restricted' | 'revoked' | 'inactive';

/** What a subscription in a state gives: everything, the policy's reduced set, or nothing. */
export type Access = 'full' | 'restricted' | 'none';

export interface DunningPolicy {
  /** Days past_due keeps access, counted from the first failed renewal. */
  pastDueDays: number;
  /** Days past_due after which only the restricted set is kept; null: no restricted step. */
  restrictAfterDays: number | null;
  /** The restricted step's reduced entitlement. */
  restricted: { features: FeatureSet; role: string | null };
}

export const DEFAULT_DUNNING_POLICY: DunningPolicy = {
  pastDueDays: 14,
  restrictAfterDays: null,
  restricted: { features: {}, role: null },
};

/** Every move the machine can make on its own or on Stripe's word; anything else is a bug. */
export const DUNNING_TRANSITIONS: Readonly<Record<DunningState, readonly DunningState[]>> = {
  active: ['past_due', 'revoked', 'inactive'],
  past_due: ['active', 'restricted', 'revoked', 'inactive'],
  restricted: ['active', 'revoked', 'inactive'],
  revoked: ['active', 'past_due', 'inactive'],
  inactive: ['active', 'past_due', 'revoked'],
};

export interface DunningInput {
  /** Stripe's subscription status. */
  status: string;
  /** When billing first saw it past_due (null: not past_due, or not seen yet). */
  pastDueSince: Date | null;
}

export interface DunningStep {
  state: DunningState;
  access: Access;
  /** The state it moves to by itself, and when (null: it waits for Stripe). */
  nextState: DunningState | null;
  nextStepAt: Date | null;
}

const DAY_MS = 86_400_000;
const ENDED = new Set(['canceled', 'unpaid', 'incomplete_expired']);

export function dunningStep(input: DunningInput, policy: DunningPolicy, now: Date): DunningStep {
  if (input.status === 'active' || input.status === 'trialing')
    return { state: 'active', access: 'full', nextState: null, nextStepAt: null };
  if (ENDED.has(input.status)) return { state: 'revoked', access: 'none', nextState: null, nextStepAt: null };
  if (input.status !== 'past_due')
    // incomplete (first payment pending) and paused never granted anything.
    return { state: 'inactive', access: 'none', nextState: null, nextStepAt: null };

  const since = (input.pastDueSince ?? now).getTime();
  const revokeAt = new Date(since + policy.pastDueDays * DAY_MS);
  const restrictAt =
    policy.restrictAfterDays !== null && policy.restrictAfterDays < policy.pastDueDays
      ? new Date(since + policy.restrictAfterDays * DAY_MS)
      : null;
  if (now >= revokeAt) return { state: 'revoked', access: 'none', nextState: null, nextStepAt: null };
  if (restrictAt && now >= restrictAt)
    return { state: 'restricted', access: 'restricted', nextState: 'revoked', nextStepAt: revokeAt };
  return restrictAt
    ? { state: 'past_due', access: 'full', nextState: 'restricted', nextStepAt: restrictAt }
    : { state: 'past_due', access: 'full', nextState: 'revoked', nextStepAt: revokeAt };
}

/** True when the machine may move from `from` to `to` (staying put is always allowed). */
export function canMove(from: DunningState, to: DunningState): boolean {
  return from === to || DUNNING_TRANSITIONS[from].includes(to);
}

/**
 * Parses DUNNING_RESTRICTED_FEATURES: `lookup_key` (boolean) or
 * `lookup_key=limit`, comma-separated, e.g. "catalog_sd,projects=1".
 */
export function parseFeatureList(value: string): FeatureSet {
  const features: FeatureSet = {};
  for (const part of value.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const [key, limit] = item.split('=').map((s) => s.trim());
    if (!key) throw new Error(`"${item}" names no feature`);
    if (limit === undefined) {
      features[key] = true;
      continue;
    }
    if (!/^\d+$/.test(limit)) throw new Error(`the limit of ${key} must be a whole number, got "${limit}"`);
    features[key] = Number(limit);
  }
  return features;
}
