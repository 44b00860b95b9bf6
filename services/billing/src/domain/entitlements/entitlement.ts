/**
 * What one subscription entitles its user to, as a pure function of its
 * state and the time: its product's role while active or trialing, and
 * through dunning (domain/dunning) while past_due: everything, then
 * optionally the restricted role, then nothing.
 */
import { type DunningPolicy, type DunningStep, dunningStep } from '../dunning/dunning.js';

/** Statuses under which a user still "has" a subscription (no second checkout). */
export const LIVE_STATUSES = ['active', 'trialing', 'past_due', 'incomplete', 'unpaid', 'paused'];

export interface EntitlementInput {
  status: string;
  /** metadata.role of the subscribed product. */
  role: string | null;
  /** When billing first saw it past_due. */
  pastDueSince: Date | null;
}

export interface Entitlement {
  role: string | null;
  /** Set while the role is held only by dunning: when it goes (or changes), sent to auth as the grant's expiry. */
  expiresAt: Date | null;
}

export interface SubscriptionEntitlement extends Entitlement {
  dunning: DunningStep;
}

export const NO_ENTITLEMENT: Entitlement = { role: null, expiresAt: null };

export function entitlementOf(
  input: EntitlementInput,
  now: Date,
  policy: DunningPolicy,
): SubscriptionEntitlement {
  const dunning = dunningStep(input, policy, now);
  const role =
    dunning.access === 'full' ? input.role : dunning.access === 'restricted' ? policy.restricted.role : null;
  return { role: role ?? null, expiresAt: role ? dunning.nextStepAt : null, dunning };
}

export interface RoleChange {
  role: string;
  action: 'grant' | 'revoke';
  expiresAt: Date | null;
}

/** The role-sync jobs due when a subscription's entitlement goes from `before` to `after`. */
export function entitlementChanges(before: Entitlement, after: Entitlement): RoleChange[] {
  const changes: RoleChange[] = [];
  if (before.role && before.role !== after.role)
    changes.push({ role: before.role, action: 'revoke', expiresAt: null });
  if (
    after.role &&
    (after.role !== before.role || after.expiresAt?.getTime() !== before.expiresAt?.getTime())
  )
    changes.push({ role: after.role, action: 'grant', expiresAt: after.expiresAt });
  return changes;
}
