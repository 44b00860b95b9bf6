/**
 * Auth's internal role API, as both sides see it: auth's routes validate
 * against these schemas and billing's client is typed by them, so the two
 * cannot drift apart. Never routed by the gateway; callers need a
 * client-credentials token with the scope below.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ChangeCause } from './change-cause.js';

/** Scope a service token needs for every route here. */
export const SCOPE_ROLES_WRITE = 'roles:write';

export const INTERNAL_PREFIX = '/internal/v1';

/** `PUT|DELETE /internal/v1/users/{userId}/roles/{role}` */
export function roleGrantPath(userId: string, role: string): string {
  return `${INTERNAL_PREFIX}/users/${encodeURIComponent(userId)}/roles/${encodeURIComponent(role)}`;
}
/** `GET /internal/v1/grants` */
export const GRANTS_PATH = `${INTERNAL_PREFIX}/grants`;

export const RoleGrantParams = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  role: Type.String({ pattern: '^[a-z][a-z0-9_-]{1,63}$' }),
});
export type RoleGrantParams = Static<typeof RoleGrantParams>;

export const GrantSource = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: 'Who grants: "admin" for hand grants, e.g. "subscription:sub_123" for billing',
});

export const GrantRoleBody = Type.Object(
  {
    source: GrantSource,
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    /** Why (for auth's audit history); optional, so older callers keep working. */
    cause: Type.Optional(ChangeCause),
  },
  { additionalProperties: false },
);
export type GrantRoleBody = Static<typeof GrantRoleBody>;

export const RevokeRoleBody = Type.Object(
  { source: GrantSource, cause: Type.Optional(ChangeCause) },
  { additionalProperties: false },
);
export type RevokeRoleBody = Static<typeof RevokeRoleBody>;

export const Grant = Type.Object({
  user_id: Type.String(),
  role: Type.String(),
  source: Type.String(),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type Grant = Static<typeof Grant>;

export const GrantListQuery = Type.Object(
  {
    source_prefix: Type.String({ minLength: 1, maxLength: 200 }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type GrantListQuery = Static<typeof GrantListQuery>;

export const GrantPage = Type.Object({
  data: Type.Array(Grant),
  has_more: Type.Boolean(),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `cursor` for the next page',
  }),
});
export type GrantPage = Static<typeof GrantPage>;
