import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  AuthCallError,
  createAuthRolesClient,
  GrantPage,
  GrantRoleBody,
  RevokeRoleBody,
  RoleGrantParams,
  SUBSCRIPTION_SOURCE_PREFIX,
  subscriptionIdOf,
  subscriptionSource,
} from '../src/index.js';

// Auth's Ajv knows these formats; TypeBox's own checker needs to be told.
FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));
FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && v.includes('T'));

describe('subscription sources', () => {
  it('round-trip a subscription id and refuse other sources', () => {
    expect(subscriptionSource('sub_123')).toBe('subscription:sub_123');
    expect(subscriptionSource('sub_123').startsWith(SUBSCRIPTION_SOURCE_PREFIX)).toBe(true);
    expect(subscriptionIdOf(subscriptionSource('sub_123'))).toBe('sub_123');
    expect(subscriptionIdOf('admin')).toBeUndefined();
    expect(subscriptionIdOf('subscription:')).toBeUndefined();
  });
});

/** A fake auth (our own port): records calls and checks each body against the contract's schema. */
function fakeAuth() {
  const calls: { method: string; path: string; body: unknown }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method: init?.method ?? 'GET', path: url.pathname + url.search, body });
    if (url.pathname === '/v1/auth/token') return Response.json({ access_token: 't', expires_in: 60 });
    const grant = /^\/internal\/v1\/users\/([^/]+)\/roles\/([^/]+)$/.exec(url.pathname);
    if (grant) {
      const params = { userId: decodeURIComponent(grant[1] ?? ''), role: decodeURIComponent(grant[2] ?? '') };
      const schema = init?.method === 'PUT' ? GrantRoleBody : RevokeRoleBody;
      if (!Value.Check(RoleGrantParams, params) || !Value.Check(schema, body))
        return Response.json({ code: 'validation_failed' }, { status: 400 });
      return new Response(null, { status: init?.method === 'PUT' ? 201 : 204 });
    }
    if (url.pathname === '/internal/v1/grants') {
      const page: GrantPage = url.searchParams.get('cursor')
        ? {
            data: [{ user_id: 'u2', role: 'premium', source: 'subscription:s2', expires_at: null }],
            has_more: false,
            next_cursor: null,
          }
        : {
            data: [{ user_id: 'u1', role: 'subscriber', source: 'subscription:s1', expires_at: null }],
            has_more: true,
            next_cursor: 'c1',
          };
      expect(Value.Check(GrantPage, page)).toBe(true);
      return Response.json(page);
    }
    return Response.json({ code: 'not_found' }, { status: 404 });
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe('createAuthRolesClient', () => {
  const userId = '0b6f7c2e-8a55-4c1e-9d2e-2f1f0f3c9a11';

  it('sends grants and revokes that auth’s schemas accept, to the contract’s paths', async () => {
    const auth = fakeAuth();
    const client = createAuthRolesClient({
      authUrl: 'http://auth.test',
      clientId: 'billing',
      clientSecret: 's',
      timeoutMs: 1000,
      fetch: auth.fetch,
    });
    await client.grant(userId, 'premium', subscriptionSource('sub_1'), new Date('2030-01-01T00:00:00Z'));
    await client.grant(userId, 'premium', subscriptionSource('sub_1'), null);
    await client.revoke(userId, 'premium', subscriptionSource('sub_1'));
    expect(auth.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v1/auth/token',
      `PUT /internal/v1/users/${userId}/roles/premium`,
      `PUT /internal/v1/users/${userId}/roles/premium`,
      `DELETE /internal/v1/users/${userId}/roles/premium`,
    ]);
    await expect(client.grant('not-a-uuid', 'premium', 'subscription:x', null)).rejects.toBeInstanceOf(
      AuthCallError,
    );
  });

  it('pages through grants by cursor', async () => {
    const auth = fakeAuth();
    const client = createAuthRolesClient({
      authUrl: 'http://auth.test',
      clientId: 'billing',
      clientSecret: 's',
      timeoutMs: 1000,
      fetch: auth.fetch,
    });
    const grants = [];
    for await (const g of client.listGrants(SUBSCRIPTION_SOURCE_PREFIX)) grants.push(g);
    expect(grants).toEqual([
      { userId: 'u1', role: 'subscriber', source: 'subscription:s1' },
      { userId: 'u2', role: 'premium', source: 'subscription:s2' },
    ]);
  });
});
