import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  AuthCallError,
  AuthHistoryPage,
  createAuthRolesClient,
  createEntitlementsSyncClient,
  EntitlementsSyncBody,
  EntitlementsSyncParams,
  entitlementsShrank,
  GrantRoleBody,
  RevokeRoleBody,
} from '../src/index.js';

FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));
FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && v.includes('T'));

const userId = '0b6f7c2e-8a55-4c1e-9d2e-2f1f0f3c9a11';

/** A fake auth that checks pushes against the contract and keeps the newest version. */
function fakeAuth() {
  const held = new Map<string, number>();
  const calls: string[] = [];
  let tokens = 0;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    if (url.pathname === '/v1/auth/token') {
      tokens++;
      return Response.json({ access_token: `t${tokens}`, expires_in: 60 });
    }
    const headers = new Headers(init?.headers);
    const push = /^\/internal\/v1\/users\/([^/]+)\/entitlements$/.exec(url.pathname);
    if (push && init?.method === 'PUT') {
      const body = JSON.parse(String(init.body));
      if (
        !Value.Check(EntitlementsSyncParams, { userId: push[1] }) ||
        !Value.Check(EntitlementsSyncBody, body) ||
        headers.get('content-type') !== 'application/json'
      )
        return Response.json({ code: 'validation_failed' }, { status: 400 });
      if (body.version > (held.get(push[1] ?? '') ?? 0)) held.set(push[1] ?? '', body.version);
      return new Response(null, { status: 204 });
    }
    const history = /^\/internal\/v1\/users\/([^/]+)\/history$/.exec(url.pathname);
    if (history) {
      const page: AuthHistoryPage = {
        data: [
          {
            id: '1',
            at: '2026-12-04T00:00:00.000Z',
            action: 'role_granted',
            role: 'premium',
            source: 'subscription:sub_1',
            actor: 'billing',
            cause: { type: 'stripe_event', event_id: 'evt_1', event_type: 'customer.subscription.updated' },
            details: null,
          },
        ],
      };
      expect(Value.Check(AuthHistoryPage, page)).toBe(true);
      return Response.json(page);
    }
    return Response.json({ code: 'not_found' }, { status: 404 });
  }) as typeof globalThis.fetch;
  return { held, calls, fetch };
}

const options = (f: typeof fetch) => ({
  authUrl: 'http://auth.test',
  clientId: 'billing',
  clientSecret: 's',
  timeoutMs: 1000,
  fetch: f,
});

describe('entitlements sync contract', () => {
  it('accepts booleans and limits, and refuses other values, keys and unknown fields', () => {
    const cause = { type: 'stripe_event', event_id: 'evt_1' };
    expect(
      Value.Check(EntitlementsSyncBody, { version: 1, features: { hd: true, projects: 10 }, cause }),
    ).toBe(true);
    expect(Value.Check(EntitlementsSyncBody, { version: 1, features: { hd: false }, cause })).toBe(false);
    expect(Value.Check(EntitlementsSyncBody, { version: 1, features: { projects: -1 }, cause })).toBe(false);
    expect(Value.Check(EntitlementsSyncBody, { version: 1, features: { 'Bad Key': true }, cause })).toBe(
      false,
    );
    expect(Value.Check(EntitlementsSyncBody, { version: 0, features: {}, cause })).toBe(false);
    expect(Value.Check(EntitlementsSyncBody, { version: 1, features: {}, cause, extra: 1 })).toBe(false);
    expect(
      Value.Check(EntitlementsSyncBody, { version: 1, features: {}, cause: { type: 'x', who: 1 } }),
    ).toBe(false);
  });

  it('role grants take an optional cause and still accept bodies without one', () => {
    expect(Value.Check(GrantRoleBody, { source: 'admin' })).toBe(true);
    expect(Value.Check(GrantRoleBody, { source: 'admin', cause: { type: 'admin', detail: 'support' } })).toBe(
      true,
    );
    expect(Value.Check(RevokeRoleBody, { source: 'subscription:s', cause: { type: 'refund' } })).toBe(true);
    expect(Value.Check(RevokeRoleBody, { source: 'subscription:s', cause: { detail: 'no type' } })).toBe(
      false,
    );
  });
});

describe('entitlementsShrank', () => {
  it('is true when a feature goes or a limit falls, false for equal or larger sets', () => {
    expect(entitlementsShrank({ hd: true }, {})).toBe(true);
    expect(entitlementsShrank({ projects: 10 }, { projects: 3 })).toBe(true);
    expect(entitlementsShrank({ hd: true }, { hd: 5 })).toBe(true);
    expect(entitlementsShrank({}, { hd: true })).toBe(false);
    expect(entitlementsShrank({ projects: 3 }, { projects: 10, hd: true })).toBe(false);
    expect(entitlementsShrank({ projects: 3 }, { projects: true })).toBe(false);
    expect(entitlementsShrank({ hd: true, projects: 3 }, { hd: true, projects: 3 })).toBe(false);
  });
});

describe('createEntitlementsSyncClient', () => {
  it('pushes bodies auth’s schema accepts, to the contract’s path, with one service token', async () => {
    const auth = fakeAuth();
    const client = createEntitlementsSyncClient(options(auth.fetch));
    await client.push(userId, { version: 2, features: { hd: true }, cause: { type: 'sync' } });
    await client.push(userId, { version: 1, features: {}, cause: { type: 'sync' } });
    expect(auth.held.get(userId)).toBe(2);
    expect(auth.calls).toEqual([
      'POST /v1/auth/token',
      `PUT /internal/v1/users/${userId}/entitlements`,
      `PUT /internal/v1/users/${userId}/entitlements`,
    ]);
  });

  it('turns a refusal into an AuthCallError with status and code', async () => {
    const client = createEntitlementsSyncClient(options(fakeAuth().fetch));
    const error = await client
      .push('not-a-uuid', { version: 1, features: {}, cause: { type: 'sync' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthCallError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('reads auth’s side of a user’s history', async () => {
    const auth = fakeAuth();
    const entries = await createEntitlementsSyncClient(options(auth.fetch)).history(userId, 50);
    expect(entries.map((e) => [e.action, e.cause?.event_id])).toEqual([['role_granted', 'evt_1']]);
    expect(auth.calls.at(-1)).toBe(`GET /internal/v1/users/${userId}/history?limit=50`);
  });
});

describe('role grant causes on the wire', () => {
  it('sends the cause only when given', async () => {
    const bodies: unknown[] = [];
    const f = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith('/v1/auth/token'))
        return Response.json({ access_token: 't', expires_in: 60 });
      bodies.push(JSON.parse(String(init?.body)));
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const client = createAuthRolesClient(options(f));
    await client.grant(userId, 'premium', 'subscription:s', null);
    await client.revoke(userId, 'premium', 'subscription:s', undefined, {
      type: 'refund',
      event_id: 'evt_9',
    });
    expect(bodies).toEqual([
      { source: 'subscription:s', expires_at: null },
      { source: 'subscription:s', cause: { type: 'refund', event_id: 'evt_9' } },
    ]);
  });
});
