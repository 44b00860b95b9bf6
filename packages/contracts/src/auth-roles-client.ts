/**
 * A typed client of auth's internal API (src/role-grants.ts, src/internal-users.ts), called
 * with a client-credentials token (src/service-caller.ts). Billing's role sync
 * uses it; any other service that grants roles would too.
 */

import type { ChangeCause } from './change-cause.js';
import { type InternalUser, internalUserPath } from './internal-users.js';
import {
  GRANTS_PATH,
  type GrantPage,
  type GrantRoleBody,
  type RevokeRoleBody,
  roleGrantPath,
} from './role-grants.js';
import { createServiceCaller, type ServiceCallerOptions } from './service-caller.js';

export { AuthCallError } from './service-caller.js';

export type AuthRolesClientOptions = ServiceCallerOptions;

export interface AuthRolesClient {
  /** The user's current login and email (GET /internal/v1/users/{id}). */
  getUser(userId: string, requestId?: string): Promise<InternalUser>;
  grant(
    userId: string,
    role: string,
    source: string,
    expiresAt: Date | null,
    requestId?: string,
    /** Why, for auth's audit history (optional: auth records the grant without one). */
    cause?: ChangeCause,
  ): Promise<void>;
  revoke(
    userId: string,
    role: string,
    source: string,
    requestId?: string,
    cause?: ChangeCause,
  ): Promise<void>;
  /** Every grant auth holds whose source starts with `sourcePrefix` (pages of GET /internal/v1/grants). */
  listGrants(sourcePrefix: string): AsyncIterable<{ userId: string; role: string; source: string }>;
}

export function createAuthRolesClient(options: AuthRolesClientOptions): AuthRolesClient {
  const caller = createServiceCaller(options);

  async function* listGrants(sourcePrefix: string) {
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ source_prefix: sourcePrefix, limit: '1000' });
      if (cursor) query.set('cursor', cursor);
      const response = await caller.call(`${GRANTS_PATH}?${query}`);
      const page = (await response.json()) as GrantPage;
      for (const g of page.data) yield { userId: g.user_id, role: g.role, source: g.source };
      cursor = page.next_cursor;
    } while (cursor);
  }

  async function roleCall(
    method: 'PUT' | 'DELETE',
    userId: string,
    role: string,
    body: GrantRoleBody | RevokeRoleBody,
    requestId?: string,
  ) {
    const response = await caller.call(roleGrantPath(userId, role), {
      method,
      body: JSON.stringify(body),
      requestId,
    });
    await response.body?.cancel();
  }

  async function getUser(userId: string, requestId?: string): Promise<InternalUser> {
    const response = await caller.call(internalUserPath(userId), { requestId });
    return (await response.json()) as InternalUser;
  }

  return {
    getUser,
    listGrants,
    grant: (userId, role, source, expiresAt, requestId, cause) =>
      roleCall(
        'PUT',
        userId,
        role,
        { source, expires_at: expiresAt?.toISOString() ?? null, ...(cause ? { cause } : {}) },
        requestId,
      ),
    revoke: (userId, role, source, requestId, cause) =>
      roleCall('DELETE', userId, role, { source, ...(cause ? { cause } : {}) }, requestId),
  };
}
