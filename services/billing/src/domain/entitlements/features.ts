/**
 * Features and limits, the Stripe Entitlements way: a product carries
 * Entitlements features; a feature whose metadata has `limit` (a whole
 * number, e.g. "10") is a numeric limit, any other feature is boolean.
 *
 * A user's entitlements are the union over everything that grants them (live
 * subscriptions, one-time purchases): a key granted anywhere is granted, and
 * the highest limit wins. A number beats `true` (a boolean grant of a limited
 * feature states no limit, so it cannot raise one).
 */
import type { FeatureSet } from '@tollgate/contracts';
import type { Access } from '../dunning/dunning.js';

export type { FeatureSet };

/** The feature metadata key that makes a feature a numeric limit. */
export const LIMIT_METADATA_KEY = 'limit';

/** A feature's limit from its metadata; null for a boolean feature (no or unusable `limit`). */
export function limitOf(metadata: Record<string, string> | null | undefined): number | null {
  const raw = metadata?.[LIMIT_METADATA_KEY]?.trim();
  if (!raw || !/^\d{1,9}$/.test(raw)) return null;
  return Number(raw);
}

export interface ProductFeatureRow {
  lookupKey: string;
  limit: number | null;
  active: boolean;
}

/** What a product's features grant (archived features grant nothing). */
export function featuresOfProduct(rows: readonly ProductFeatureRow[]): FeatureSet {
  return unionFeatures(rows.filter((r) => r.active).map((r) => ({ [r.lookupKey]: r.limit ?? true })));
}

function better(a: true | number | undefined, b: true | number): true | number {
  if (a === undefined) return b;
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  return typeof a === 'number' ? a : b;
}

export function unionFeatures(sets: readonly FeatureSet[]): FeatureSet {
  const out: FeatureSet = {};
  for (const set of sets) for (const [key, value] of Object.entries(set)) out[key] = better(out[key], value);
  return sortedKeys(out);
}

/**
 * The reduced set a subscription in dunning's restricted step keeps: the
 * configured features that its product grants at all, each at the lower of
 * the two limits (a restriction never grants what the plan did not).
 */
export function restrictFeatures(granted: FeatureSet, allowed: FeatureSet): FeatureSet {
  const out: FeatureSet = {};
  for (const [key, cap] of Object.entries(allowed)) {
    const value = granted[key];
    if (value === undefined) continue;
    if (typeof value === 'number' && typeof cap === 'number') out[key] = Math.min(value, cap);
    else out[key] = typeof value === 'number' ? value : cap;
  }
  return sortedKeys(out);
}

/** The features a source gives under an access level. */
export function featuresFor(access: Access, granted: FeatureSet, restricted: FeatureSet): FeatureSet {
  if (access === 'full') return granted;
  if (access === 'restricted') return restrictFeatures(granted, restricted);
  return {};
}

function sortedKeys(map: FeatureSet): FeatureSet {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
}
