/**
 * What a subscription entitles its user to, as a pure function of its state
 * and the time: the role of its product while it is active or trialing, and
 * through a grace period while past_due; nothing otherwise.
 */
export const GRANTING_STATUSES = new Set(['active', 'trialing']);

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
  /** Set while the role is held only by the grace period. */
  expiresAt: Date | null;
}

export const NO_ENTITLEMENT: Entitlement = { role: null, expiresAt: null };

export function graceEnd(pastDueSince: Date, graceDays: number): Date {
  return new Date(pastDueSince.getTime() + graceDays * 86_400_000);
}

export function entitlementOf(input: EntitlementInput, now: Date, graceDays: number): Entitlement {
  if (!input.role) return NO_ENTITLEMENT;
  if (GRANTING_STATUSES.has(input.status)) return { role: input.role, expiresAt: null };
  if (input.status === 'past_due') {
    const end = graceEnd(input.pastDueSince ?? now, graceDays);
    return end > now ? { role: input.role, expiresAt: end } : NO_ENTITLEMENT;
  }
  // canceled, unpaid, incomplete, incomplete_expired, paused
  return NO_ENTITLEMENT;
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
