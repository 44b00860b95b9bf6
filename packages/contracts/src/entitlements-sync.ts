/**
 * Auth's internal entitlements API, as both sides see it: billing pushes a
 * user's whole feature set with a per-user version through its outbox; auth
 * keeps the newest version (a version <= the one it holds is ignored, so
 * retries and reordered pushes are harmless). Same service-token auth and
 * scope as the role grants.
 */
import { type Static, Type } from '@sinclair/typebox';
import { INTERNAL_PREFIX } from './role-grants.js';

/** `PUT /internal/v1/users/{userId}/entitlements` -> 204 */
export function userEntitlementsPath(userId: string): string {
  return `${INTERNAL_PREFIX}/users/${encodeURIComponent(userId)}/entitlements`;
}

export const UserEntitlementsParams = Type.Object({ userId: Type.String({ format: 'uuid' }) });
export type UserEntitlementsParams = Static<typeof UserEntitlementsParams>;

/** A feature's value: `true` (boolean feature) or its numeric limit. */
export const FeatureValue = Type.Union([Type.Literal(true), Type.Integer({ minimum: 0 })]);
export const FeatureMap = Type.Record(Type.String({ minLength: 1, maxLength: 200 }), FeatureValue);
export type FeatureMap = Static<typeof FeatureMap>;

/** Why the entitlements changed (the audit log keeps it). */
export const EntitlementCause = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        'e.g. webhook, sync, reconcile, dunning, refund, purchase, purchase_expired, admin, subscription_change',
    }),
    event_id: Type.Optional(Type.String({ maxLength: 255 })),
    event_type: Type.Optional(Type.String({ maxLength: 255 })),
    subscription_id: Type.Optional(Type.String({ maxLength: 255 })),
    detail: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type EntitlementCause = Static<typeof EntitlementCause>;

export const PutUserEntitlementsBody = Type.Object(
  {
    version: Type.Integer({ minimum: 1, description: 'Per user, grows with every change' }),
    features: FeatureMap,
    cause: EntitlementCause,
  },
  { additionalProperties: false },
);
export type PutUserEntitlementsBody = Static<typeof PutUserEntitlementsBody>;
