/**
 * A user's entitlements from everything that grants them: pure, so the
 * union rule is tested without a database. Each source arrives with the
 * role and features it gives right now (its dunning step or purchase state
 * already applied).
 */
import type { FeatureSet } from '@tollgate/contracts';
import { unionFeatures } from './features.js';

export interface EntitlementSource {
  type: 'subscription' | 'purchase';
  id: string;
  productId: string | null;
  /** The dunning state of a subscription; paid/refunded/expired for a purchase. */
  state: string;
  /** When it stops granting (or changes) by itself; null: lifetime, or until Stripe says otherwise. */
  until: Date | null;
  role: string | null;
  features: FeatureSet;
}

export interface SourceView {
  type: 'subscription' | 'purchase';
  id: string;
  product_id: string | null;
  state: string;
  until: string | null;
  role: string | null;
  features: FeatureSet;
}

export interface DerivedEntitlements {
  features: FeatureSet;
  roles: string[];
  sources: SourceView[];
}

export function deriveEntitlements(sources: readonly EntitlementSource[]): DerivedEntitlements {
  const granting = sources
    .filter((s) => s.role !== null || Object.keys(s.features).length > 0)
    .sort((a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id));
  return {
    features: unionFeatures(granting.map((s) => s.features)),
    roles: [...new Set(granting.flatMap((s) => (s.role ? [s.role] : [])))].sort(),
    sources: granting.map((s) => ({
      type: s.type,
      id: s.id,
      product_id: s.productId,
      state: s.state,
      until: s.until?.toISOString() ?? null,
      role: s.role,
      features: s.features,
    })),
  };
}

/** Stable JSON (sorted object keys) to tell whether two derivations differ. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}
