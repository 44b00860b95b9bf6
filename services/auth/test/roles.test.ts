import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminTokens,
  bearer,
  expectProblem,
  PASSWORD,
  registerAndLogin,
  SERVICE_SECRET,
  serviceToken,
  startApp,
  type TestContext,
  type Tokens,
  uniqueLogin,
} from './helpers.js';

let ctx: TestContext;
let admin: Tokens;
beforeAll(async () => {
  ctx = await startApp();
  admin = await adminTokens(ctx.app, ctx.config);
});
afterAll(async () => ctx.close());

const asAdmin = () => bearer(admin.access_token);

describe('roles CRUD (admin)', () => {
  it('lists the built-in roles', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/v1/role', headers: asAdmin() });
    expect(response.statusCode).toBe(200);
    expect(response.json().map((r: { name: string }) => r.name)).toEqual(
      expect.arrayContaining(['admin', 'premium', 'subscriber']),
    );
  });

  it('creates, renames and deletes a role', async () => {
    const name = `r${uniqueLogin('').slice(0, 8)}`;
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/role',
      headers: asAdmin(),
      payload: { name, description: 'temp' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name, description: 'temp' });
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: '/v1/role', headers: asAdmin(), payload: { name } }),
      409,
      'role_exists',
    );

    const renamed = await ctx.app.inject({
      method: 'PUT',
      url: `/v1/role/${name}`,
      headers: asAdmin(),
      payload: { name: `${name}x` },
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe(`${name}x`);
    expectProblem(
      await ctx.app.inject({
        method: 'PUT',
        url: `/v1/role/${name}`,
        headers: asAdmin(),
        payload: { description: 'd' },
      }),
      404,
      'role_not_found',
    );

    expect(
      (await ctx.app.inject({ method: 'DELETE', url: `/v1/role/${name}x`, headers: asAdmin() })).statusCode,
    ).toBe(204);
    expectProblem(
      await ctx.app.inject({ method: 'DELETE', url: `/v1/role/${name}x`, headers: asAdmin() }),
      404,
      'role_not_found',
    );
  });

  it('refuses to delete or rename a built-in role', async () => {
    expectProblem(
      await ctx.app.inject({ method: 'DELETE', url: '/v1/role/admin', headers: asAdmin() }),
      409,
      'role_protected',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'PUT',
        url: '/v1/role/subscriber',
        headers: asAdmin(),
        payload: { name: 'paid' },
      }),
      409,
      'role_protected',
    );
  });

  it('refuses a malformed role name', async () => {
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/role',
        headers: asAdmin(),
        payload: { name: 'Bad Name!' },
      }),
      400,
      'validation_failed',
    );
  });

  it('is forbidden to non-admins and to anonymous callers', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: '/v1/role', headers: bearer(tokens.access_token) }),
      403,
      'forbidden',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/role',
        headers: bearer(tokens.access_token),
        payload: { name: 'hacker' },
      }),
      403,
      'forbidden',
    );
    expectProblem(await ctx.app.inject({ method: 'GET', url: '/v1/role' }), 401, 'authentication_required');
  });
});

describe('user roles', () => {
  it("a user reads their own roles; an admin reads anyone's; others are refused", async () => {
    const alice = await registerAndLogin(ctx.app);
    const bob = await registerAndLogin(ctx.app);
    const own = await ctx.app.inject({
      method: 'GET',
      url: '/v1/role/user',
      headers: bearer(alice.tokens.access_token),
    });
    expect(own.json()).toEqual({ login: alice.user.login, roles: [] });
    const byLogin = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${alice.user.login}`,
      headers: bearer(alice.tokens.access_token),
    });
    expect(byLogin.statusCode).toBe(200);
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: `/v1/role/user?login=${alice.user.login}`,
        headers: bearer(bob.tokens.access_token),
      }),
      403,
      'forbidden',
    );
    const asAdminRead = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${alice.user.login}`,
      headers: asAdmin(),
    });
    expect(asAdminRead.statusCode).toBe(200);
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: '/v1/role/user?login=nobody-here', headers: asAdmin() }),
      404,
      'user_not_found',
    );
  });

  it("resolves the caller by user id: after a rename, an old token never reads the login's new owner's roles", async () => {
    const alice = await registerAndLogin(ctx.app);
    const oldLogin = alice.user.login;
    const renamed = await ctx.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(alice.tokens.access_token),
      payload: { login: uniqueLogin('alice'), current_password: PASSWORD },
    });
    expect(renamed.statusCode).toBe(200);
    const newLogin = renamed.json().login as string;
    // Someone else takes the freed login and is given a role.
    const mallory = (
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/register',
        payload: { login: oldLogin, password: PASSWORD, email: `${uniqueLogin('mallory')}@example.net` },
      })
    ).json() as { login: string };
    const granted = await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: mallory.login, role: 'premium' },
    });
    expect(granted.statusCode).toBe(200);

    // Alice's token still says login=oldLogin; the answer is about Alice.
    const own = await ctx.app.inject({
      method: 'GET',
      url: '/v1/role/user',
      headers: bearer(alice.tokens.access_token),
    });
    expect(own.json()).toEqual({ login: newLogin, roles: [] });
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: `/v1/role/user?login=${oldLogin}`,
        headers: bearer(alice.tokens.access_token),
      }),
      403,
      'forbidden',
    );
    const byNewLogin = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${newLogin}`,
      headers: bearer(alice.tokens.access_token),
    });
    expect(byNewLogin.json()).toEqual({ login: newLogin, roles: [] });
  });

  it('gives a non-admin the same 403 for an unknown login as for another user', async () => {
    const alice = await registerAndLogin(ctx.app);
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: `/v1/role/user?login=${uniqueLogin('nobody')}`,
        headers: bearer(alice.tokens.access_token),
      }),
      403,
      'forbidden',
    );
  });

  it('an admin grants and revokes; new tokens carry the role', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const grant = await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'premium' },
    });
    expect(grant.json()).toEqual({ login: user.login, roles: ['premium'] });
    const fresh = (
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { login: user.login, password: user.password },
      })
    ).json();
    const claims = JSON.parse(Buffer.from(fresh.access_token.split('.')[1], 'base64url').toString());
    expect(claims.roles).toEqual(['premium']);
    const revoke = await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'premium' },
    });
    expect(revoke.json()).toEqual({ login: user.login, roles: [] });
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/role/user',
        headers: asAdmin(),
        payload: { login: user.login, role: 'nope' },
      }),
      404,
      'role_not_found',
    );
  });

  it('takes admin rights away at once, without waiting for the token to expire', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'admin' },
    });
    expect(
      (await ctx.app.inject({ method: 'GET', url: '/v1/role', headers: bearer(tokens.access_token) }))
        .statusCode,
    ).toBe(200);
    await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'admin' },
    });
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: '/v1/role', headers: bearer(tokens.access_token) }),
      403,
      'forbidden',
    );
  });
});

describe('client-credentials grant', () => {
  it('issues a service token for a known client (JSON, form or HTTP Basic)', async () => {
    const json = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { grant_type: 'client_credentials', client_id: 'billing', client_secret: SERVICE_SECRET },
    });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'roles:write' });
    expect(json.headers['cache-control']).toBe('no-store');
    const claims = JSON.parse(Buffer.from(json.json().access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({
      sub: 'billing',
      client_id: 'billing',
      scope: 'roles:write',
      aud: 'tollgate-internal',
    });

    const form = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=billing&client_secret=${SERVICE_SECRET}`,
    });
    expect(form.statusCode).toBe(200);
    const basic = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`billing:${SERVICE_SECRET}`).toString('base64')}`,
      },
      payload: 'grant_type=client_credentials',
    });
    expect(basic.statusCode).toBe(200);
  });

  it('refuses a wrong secret, an unknown client, another grant type and a scope the client lacks', async () => {
    const post = (payload: Record<string, string>) =>
      ctx.app.inject({ method: 'POST', url: '/v1/auth/token', payload });
    expectProblem(
      await post({ grant_type: 'client_credentials', client_id: 'billing', client_secret: 'wrong' }),
      401,
      'invalid_client',
    );
    expectProblem(
      await post({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' }),
      401,
      'invalid_client',
    );
    expectProblem(
      await post({ grant_type: 'password', client_id: 'billing', client_secret: SERVICE_SECRET }),
      400,
      'unsupported_grant_type',
    );
    expectProblem(
      await post({
        grant_type: 'client_credentials',
        client_id: 'billing',
        client_secret: SERVICE_SECRET,
        scope: 'users:delete',
      }),
      400,
      'invalid_scope',
    );
  });

  it('refuses HTTP Basic credentials that are not valid percent-encoding with 401, not a 500', async () => {
    for (const credentials of ['%zz:%zz', `billing:%E0%A4%A${SERVICE_SECRET}`]) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
        },
        payload: 'grant_type=client_credentials',
      });
      expectProblem(response, 401, 'invalid_client');
    }
  });
});

describe('internal role API', () => {
  const url = (userId: string, role = 'subscriber') => `/internal/v1/users/${userId}/roles/${role}`;

  it('grants idempotently by (user, role, source): 201 then 200, one grant', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const token = await serviceToken(ctx.app);
    const put = () =>
      ctx.app.inject({
        method: 'PUT',
        url: url(user.id),
        headers: bearer(token),
        payload: { source: 'subscription:sub_1' },
      });
    const first = await put();
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({
      user_id: user.id,
      role: 'subscriber',
      source: 'subscription:sub_1',
      expires_at: null,
    });
    expect((await put()).statusCode).toBe(200);
    const roles = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${user.login}`,
      headers: asAdmin(),
    });
    expect(roles.json().roles).toEqual(['subscriber']);
  });

  it('records a grant in the history when it is new or its expiry moved, not when it is repeated', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const token = await serviceToken(ctx.app);
    const put = (expires_at: string | null) =>
      ctx.app.inject({
        method: 'PUT',
        url: url(user.id),
        headers: bearer(token),
        payload: {
          source: 'subscription:sub_h',
          expires_at,
          cause: { type: 'stripe_event', event_id: 'evt_h' },
        },
      });
    const until = '2031-01-02T03:04:05.678Z';
    expect((await put(null)).statusCode).toBe(201);
    expect((await put(null)).statusCode).toBe(200);
    const renewed = await put(until);
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json()).toMatchObject({ source: 'subscription:sub_h', expires_at: until });
    expect((await put(until)).statusCode).toBe(200);

    const history = await ctx.app.inject({
      method: 'GET',
      url: `/internal/v1/users/${user.id}/history?limit=10`,
      headers: bearer(token),
    });
    const entries = (history.json() as { data: { action: string; details: unknown; cause: unknown }[] }).data;
    // Newest first: the renewal, then the first grant; the two repeats left nothing.
    expect(entries.map((e) => [e.action, e.details])).toEqual([
      ['role_granted', { expires_at: until, renewed: true }],
      ['role_granted', { expires_at: null, renewed: false }],
    ]);
    expect(entries[0]?.cause).toEqual({ type: 'stripe_event', event_id: 'evt_h' });
  });

  it('shows a grant in GET /v1/auth/me at once, even right after /me was read', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const me = () =>
      ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(tokens.access_token) });
    expect((await me()).json().roles).toEqual([]);
    const token = await serviceToken(ctx.app);
    await ctx.app.inject({
      method: 'PUT',
      url: url(user.id),
      headers: bearer(token),
      payload: { source: 'subscription:sub_m' },
    });
    expect((await me()).json().roles).toEqual(['subscriber']);
    await ctx.app.inject({
      method: 'DELETE',
      url: url(user.id),
      headers: bearer(token),
      payload: { source: 'subscription:sub_m' },
    });
    expect((await me()).json().roles).toEqual([]);
  });

  it('keeps grants from different sources separate: revoking one leaves the other', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const token = await serviceToken(ctx.app);
    await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'subscriber' },
    });
    await ctx.app.inject({
      method: 'PUT',
      url: url(user.id),
      headers: bearer(token),
      payload: { source: 'subscription:sub_2' },
    });
    const revoke = await ctx.app.inject({
      method: 'DELETE',
      url: url(user.id),
      headers: bearer(token),
      payload: { source: 'subscription:sub_2' },
    });
    expect(revoke.statusCode).toBe(204);
    const again = await ctx.app.inject({
      method: 'DELETE',
      url: url(user.id),
      headers: bearer(token),
      payload: { source: 'subscription:sub_2' },
    });
    expect(again.statusCode).toBe(204);
    const roles = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${user.login}`,
      headers: asAdmin(),
    });
    expect(roles.json().roles).toEqual(['subscriber']);

    // And the other way round: an admin's revoke leaves the subscription's grant.
    await ctx.app.inject({
      method: 'PUT',
      url: url(user.id),
      headers: bearer(token),
      payload: { source: 'subscription:sub_3' },
    });
    await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'subscriber' },
    });
    const after = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${user.login}`,
      headers: asAdmin(),
    });
    expect(after.json().roles).toEqual(['subscriber']);
  });

  it('a refreshed access token carries the roles in force at the refresh, not at the login', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const token = await serviceToken(ctx.app);
    await ctx.app.inject({
      method: 'PUT',
      url: url(user.id, 'premium'),
      headers: bearer(token),
      payload: { source: 'subscription:sub_refresh' },
    });
    await ctx.app.inject({
      method: 'PUT',
      url: url(user.id, 'subscriber'),
      headers: bearer(token),
      payload: { source: 'subscription:sub_gone', expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    const refreshed = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    const claims = JSON.parse(
      Buffer.from(refreshed.json().access_token.split('.')[1], 'base64url').toString(),
    );
    expect(claims.roles).toEqual(['premium']);
  });

  it('honours expires_at: an expired grant no longer counts', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const token = await serviceToken(ctx.app);
    const past = new Date(Date.now() - 1000).toISOString();
    const response = await ctx.app.inject({
      method: 'PUT',
      url: url(user.id, 'premium'),
      headers: bearer(token),
      payload: { source: 'subscription:sub_4', expires_at: past },
    });
    expect(response.json().expires_at).toBe(past);
    const roles = await ctx.app.inject({
      method: 'GET',
      url: `/v1/role/user?login=${user.login}`,
      headers: asAdmin(),
    });
    expect(roles.json().roles).toEqual([]);
  });

  it('refuses user tokens, tokens without the scope, unknown users and roles', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const payload = { source: 'subscription:sub_5' };
    expectProblem(
      await ctx.app.inject({
        method: 'PUT',
        url: url(user.id),
        headers: bearer(tokens.access_token),
        payload,
      }),
      401,
      'token_invalid',
    );
    expectProblem(
      await ctx.app.inject({ method: 'PUT', url: url(user.id), payload }),
      401,
      'authentication_required',
    );
    const reporting = await serviceToken(ctx.app, 'reporting', 'reporting-secret-0123456789');
    expectProblem(
      await ctx.app.inject({ method: 'PUT', url: url(user.id), headers: bearer(reporting), payload }),
      403,
      'insufficient_scope',
    );
    const token = await serviceToken(ctx.app);
    expectProblem(
      await ctx.app.inject({
        method: 'PUT',
        url: url('00000000-0000-4000-8000-000000000000'),
        headers: bearer(token),
        payload,
      }),
      404,
      'user_not_found',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'PUT',
        url: url(user.id, 'unknown-role'),
        headers: bearer(token),
        payload,
      }),
      404,
      'role_not_found',
    );
    expectProblem(
      await ctx.app.inject({ method: 'PUT', url: url(user.id), headers: bearer(token), payload: {} }),
      400,
      'validation_failed',
    );
  });
});

describe('internal grant listing', () => {
  it('pages through the grants of a source prefix in a stable order, and only those', async () => {
    const token = await serviceToken(ctx.app);
    const prefix = `subscription:sub_list_${uniqueLogin('').slice(0, 6)}_`;
    const users = await Promise.all([1, 2, 3].map(() => registerAndLogin(ctx.app)));
    for (const [i, { user }] of users.entries()) {
      await ctx.app.inject({
        method: 'PUT',
        url: `/internal/v1/users/${user.id}/roles/subscriber`,
        headers: bearer(token),
        payload: { source: `${prefix}${i}` },
      });
    }
    await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: users[0]!.user.login, role: 'premium' },
    });

    const seen: { user_id: string; source: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `source_prefix=${encodeURIComponent(prefix)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await ctx.app.inject({
        method: 'GET',
        url: `/internal/v1/grants?${query}`,
        headers: bearer(token),
      });
      expect(page.statusCode).toBe(200);
      const body = page.json() as {
        data: { user_id: string; source: string; role: string }[];
        has_more: boolean;
        next_cursor: string | null;
      };
      seen.push(...body.data);
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen.map((g) => g.source).sort()).toEqual([`${prefix}0`, `${prefix}1`, `${prefix}2`]);
    expect(new Set(seen.map((g) => g.user_id))).toEqual(new Set(users.map((u) => u.user.id)));
  });

  it('needs a service token and a well-formed cursor', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: '/internal/v1/grants?source_prefix=subscription:',
        headers: bearer(tokens.access_token),
      }),
      401,
      'token_invalid',
    );
    const token = await serviceToken(ctx.app);
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: '/internal/v1/grants?source_prefix=subscription:&cursor=garbage',
        headers: bearer(token),
      }),
      400,
      'invalid_cursor',
    );
  });
});
