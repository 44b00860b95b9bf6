/**
 * A typed client of auth's internal API (src/role-grants.ts, src/internal-users.ts), called
 * with a client-credentials token (cached until shortly before it expires,
 * dropped on a 401). Billing's role sync uses it; any other service that
 * grants roles would too.
 */

import { type PutUserEntitlementsBody, userEntitlementsPath } from './entitlements-sync.js';
import { type InternalUser, internalUserPath } from './internal-users.js';
import {
  GRANTS_PATH,
  type GrantPage,
  type GrantRoleBody,
  type RevokeRoleBody,
  roleGrantPath,
} from './role-grants.js';

export interface AuthRolesClientOptions {
  authUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export class AuthCallError extends Error {
  override name = 'AuthCallError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface AuthRolesClient {
  /** The user's current login and email (GET /internal/v1/users/{id}). */
  getUser(userId: string, requestId?: string): Promise<InternalUser>;
  grant(
    userId: string,
    role: string,
    source: string,
    expiresAt: Date | null,
    requestId?: string,
  ): Promise<void>;
  revoke(userId: string, role: string, source: string, requestId?: string): Promise<void>;
  /** Hands auth a user's whole entitlements (PUT /internal/v1/users/{id}/entitlements); older versions are ignored there. */
  putEntitlements(userId: string, body: PutUserEntitlementsBody, requestId?: string): Promise<void>;
  /** Every grant auth holds whose source starts with `sourcePrefix` (pages of GET /internal/v1/grants). */
  listGrants(sourcePrefix: string): AsyncIterable<{ userId: string; role: string; source: string }>;
}

export function createAuthRolesClient(options: AuthRolesClientOptions): AuthRolesClient {
  const doFetch = options.fetch ?? fetch;
  let cached: { token: string; until: number } | undefined;

  async function call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      throw new AuthCallError(`auth unreachable: ${(error as Error).message}`);
    }
  }

  async function token(): Promise<string> {
    if (cached && cached.until > Date.now()) return cached.token;
    const response = await call(`${options.authUrl}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      code?: string;
    };
    if (!response.ok || !body.access_token)
      throw new AuthCallError(
        `token request failed: ${response.status} ${body.code ?? ''}`,
        response.status,
        body.code,
      );
    const lifetimeMs = (body.expires_in ?? 60) * 1000;
    cached = { token: body.access_token, until: Date.now() + lifetimeMs * 0.8 };
    return body.access_token;
  }

  async function failure(response: Response): Promise<AuthCallError> {
    const problem = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    if (response.status === 401) cached = undefined;
    return new AuthCallError(
      `auth answered ${response.status} ${problem.code ?? ''}${problem.detail ? `: ${problem.detail}` : ''}`,
      response.status,
      problem.code,
    );
  }

  async function* listGrants(sourcePrefix: string) {
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ source_prefix: sourcePrefix, limit: '1000' });
      if (cursor) query.set('cursor', cursor);
      const response = await call(`${options.authUrl}${GRANTS_PATH}?${query}`, {
        headers: { authorization: `Bearer ${await token()}` },
      });
      if (!response.ok) throw await failure(response);
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
    return send(method, `${options.authUrl}${roleGrantPath(userId, role)}`, body, requestId);
  }

  async function send(method: 'PUT' | 'DELETE', url: string, body: unknown, requestId?: string) {
    const response = await call(url, {
      method,
      headers: {
        authorization: `Bearer ${await token()}`,
        'content-type': 'application/json',
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    throw await failure(response);
  }

  async function getUser(userId: string, requestId?: string): Promise<InternalUser> {
    const response = await call(`${options.authUrl}${internalUserPath(userId)}`, {
      headers: {
        authorization: `Bearer ${await token()}`,
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
    });
    if (!response.ok) throw await failure(response);
    return (await response.json()) as InternalUser;
  }

  return {
    getUser,
    listGrants,
    putEntitlements: (userId, body, requestId) =>
      send('PUT', `${options.authUrl}${userEntitlementsPath(userId)}`, body, requestId),
    grant: (userId, role, source, expiresAt, requestId) =>
      roleCall('PUT', userId, role, { source, expires_at: expiresAt?.toISOString() ?? null }, requestId),
    revoke: (userId, role, source, requestId) => roleCall('DELETE', userId, role, { source }, requestId),
  };
}
