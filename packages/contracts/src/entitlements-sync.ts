/**
 * How billing tells auth a user's entitlements, and how auth tells billing
 * its side of a user's audit history. Billing pushes the whole set with a
 * version through its outbox (like role grants); auth keeps the newest
 * version it was given and ignores older ones, so retries and reordered
 * deliveries are harmless. Auth puts the set into access tokens (`ent`).
 * Same service token and scope as the role API.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ChangeCause } from './change-cause.js';
import { INTERNAL_PREFIX } from './role-grants.js';
import { createServiceCaller, type ServiceCallerOptions } from './service-caller.js';

/** `PUT /internal/v1/users/{userId}/entitlements` */
export function entitlementsSyncPath(userId: string): string {
  return `${INTERNAL_PREFIX}/users/${encodeURIComponent(userId)}/entitlements`;
}

/** `GET /internal/v1/users/{userId}/history` */
export function userHistoryPath(userId: string): string {
  return `${INTERNAL_PREFIX}/users/${encodeURIComponent(userId)}/history`;
}

export const FEATURE_KEY_PATTERN = '^[a-z][a-z0-9_.-]{0,63}$';

/** A feature key: lower case, like Stripe Entitlements' `lookup_key`. */
export const FeatureKey = Type.String({ pattern: FEATURE_KEY_PATTERN });

/** A feature's value: `true` for a boolean feature, a number for a limit (highest wins). */
export const FeatureValue = Type.Union([Type.Literal(true), Type.Number({ minimum: 0 })]);
export type FeatureValue = Static<typeof FeatureValue>;

/** Features by key. Absent key = not entitled. */
export const FeatureSet = Type.Record(FeatureKey, FeatureValue, {
  maxProperties: 200,
  additionalProperties: false,
  description: 'feature key -> true (boolean feature) or a number (limit)',
});
export type FeatureSet = Static<typeof FeatureSet>;

export const EntitlementsSyncParams = Type.Object({ userId: Type.String({ format: 'uuid' }) });
export type EntitlementsSyncParams = Static<typeof EntitlementsSyncParams>;

export const EntitlementsSyncBody = Type.Object(
  {
    /** Increases with every change billing derives; auth ignores a version <= the one it holds. */
    version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    features: FeatureSet,
    cause: ChangeCause,
  },
  { additionalProperties: false },
);
export type EntitlementsSyncBody = Static<typeof EntitlementsSyncBody>;

/** One entry of auth's side of a user's history (role grants and revokes, entitlement pushes). */
export const AuthHistoryEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  /** e.g. `role_granted`, `role_revoked`, `entitlements_changed`. */
  action: Type.String(),
  role: Type.Union([Type.String(), Type.Null()]),
  /** The grant's source (`admin`, `subscription:<id>`), when the entry is about a grant. */
  source: Type.Union([Type.String(), Type.Null()]),
  /** Who did it: an admin's user id, or a service's client id. */
  actor: Type.Union([Type.String(), Type.Null()]),
  cause: Type.Union([ChangeCause, Type.Null()]),
  /** For entitlement changes: the version, the features before and after, and whether they shrank. */
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type AuthHistoryEntry = Static<typeof AuthHistoryEntry>;

export const UserHistoryQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 500, default: 200 }) },
  { additionalProperties: false },
);

export const AuthHistoryPage = Type.Object({ data: Type.Array(AuthHistoryEntry) });
export type AuthHistoryPage = Static<typeof AuthHistoryPage>;

/** Whether going from `before` to `after` takes anything away: a feature removed, or a limit lowered. */
export function entitlementsShrank(before: FeatureSet, after: FeatureSet): boolean {
  for (const [key, was] of Object.entries(before)) {
    const now = after[key];
    if (now === undefined) return true;
    if (was === true && now !== true) return true;
    if (typeof was === 'number' && typeof now === 'number' && now < was) return true;
  }
  return false;
}

export type EntitlementsSyncClientOptions = ServiceCallerOptions;

export interface EntitlementsSyncClient {
  /**
   * Pushes a user's whole entitlement set (204 from auth, also when auth
   * already holds this version or a newer one). Failures are `AuthCallError`s;
   * a 4xx other than 401/429 will not succeed on retry.
   */
  push(userId: string, body: EntitlementsSyncBody, requestId?: string): Promise<void>;
  /** Auth's side of a user's audit history, newest first. */
  history(userId: string, limit?: number, requestId?: string): Promise<AuthHistoryEntry[]>;
}

export function createEntitlementsSyncClient(options: EntitlementsSyncClientOptions): EntitlementsSyncClient {
  const caller = createServiceCaller(options);
  return {
    async push(userId, body, requestId) {
      const response = await caller.call(entitlementsSyncPath(userId), {
        method: 'PUT',
        body: JSON.stringify(body),
        requestId,
      });
      await response.body?.cancel();
    },
    async history(userId, limit = 200, requestId) {
      const response = await caller.call(`${userHistoryPath(userId)}?limit=${limit}`, { requestId });
      return ((await response.json()) as AuthHistoryPage).data;
    },
  };
}
