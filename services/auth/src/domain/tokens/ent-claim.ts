/**
 * The compact `ent` claim of access tokens: the version of the user's
 * entitlements auth holds and the features themselves. A user billing never
 * pushed anything for gets version 0 and no features.
 */
import type { EntitlementsClaim } from '@tollgate/auth-client';
import type { FeatureSet } from '@tollgate/contracts';

export const NO_ENTITLEMENTS: EntitlementsClaim = { v: 0, f: {} };

export function entClaim(held: { version: number; features: FeatureSet } | null): EntitlementsClaim {
  if (!held) return NO_ENTITLEMENTS;
  return { v: held.version, f: held.features };
}
