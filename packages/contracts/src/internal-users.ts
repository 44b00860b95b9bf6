/**
 * Auth's internal user look-up, as both sides see it: a service that needs a
 * user's current email or login asks auth instead of trusting an access
 * token's claims, which are as old as the token. Same scope as the role API.
 */
import { type Static, Type } from '@sinclair/typebox';
import { INTERNAL_PREFIX } from './role-grants.js';

/** `GET /internal/v1/users/{userId}` */
export function internalUserPath(userId: string): string {
  return `${INTERNAL_PREFIX}/users/${encodeURIComponent(userId)}`;
}

export const InternalUserParams = Type.Object({ userId: Type.String({ format: 'uuid' }) });

export const InternalUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String(),
  email: Type.String(),
  disabled: Type.Boolean(),
});
/** A user as auth knows them now. */
export type InternalUser = Static<typeof InternalUser>;
