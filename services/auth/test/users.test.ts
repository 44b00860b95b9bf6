import { createRedisRevocationStore, createTokenVerifier, type TokenError } from '@tollgate/auth-client';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminTokens,
  bearer,
  expectProblem,
  login,
  PASSWORD,
  registerAndLogin,
  serviceToken,
  startApp,
  type TestContext,
  type Tokens,
  uniqueLogin,
} from './helpers.js';

let ctx: TestContext;
let admin: Tokens;
let baseUrl: string;
let redis: Redis;
beforeAll(async () => {
  ctx = await startApp();
  admin = await adminTokens(ctx.app, ctx.config);
  baseUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  redis = new Redis(ctx.config.redisUrl, { keyPrefix: ctx.config.redisKeyPrefix });
});
afterAll(async () => {
  redis.disconnect();
  await ctx.close();
});

const asAdmin = () => bearer(admin.access_token);
const adminCall = (method: 'POST' | 'DELETE', url: string, headers = asAdmin()) =>
  ctx.app.inject({ method, url, headers });
const me = (token: string) => ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });
const refresh = (token: string) =>
  ctx.app.inject({ method: 'POST', url: '/v1/auth/refresh-token', payload: { refresh_token: token } });

/** Another service's verifier: JWKS over HTTP, revocations from Redis (as billing has them). */
function otherServiceVerifier() {
  return createTokenVerifier({
    jwksUrl: `${baseUrl}/.well-known/jwks.json`,
    issuer: ctx.config.jwt.issuer,
    audience: ctx.config.jwt.audience,
    revocation: createRedisRevocationStore(redis),
  });
}

/** Milliseconds until `verifier` refuses `token` as revoked (fails the test past 1 s). */
async function msUntilRevoked(
  verifier: ReturnType<typeof otherServiceVerifier>,
  token: string,
  since: number,
) {
  while (Date.now() - since < 1_000) {
    try {
      await verifier.verifyAccessToken(token);
    } catch (error) {
      expect((error as TokenError).code).toBe('token_revoked');
      return Date.now() - since;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the token was still accepted 1 s after the change');
}

describe('POST /v1/users/{id}/disable and /enable', () => {
  it("ends every session at once: the user's tokens fail everywhere within 1 s; login and refresh say account_disabled", async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const second = (await login(ctx.app, user.login)).json() as Tokens;
    const verifier = otherServiceVerifier();
    await verifier.verifyAccessToken(tokens.access_token);

    const disabled = await adminCall('POST', `/v1/users/${user.id}/disable`);
    expect(disabled.statusCode).toBe(204);
    const at = Date.now();
    expect(await msUntilRevoked(verifier, second.access_token, at)).toBeLessThan(1_000);
    expectProblem(await me(tokens.access_token), 401, 'token_revoked');
    expectProblem(await login(ctx.app, user.login), 403, 'account_disabled');
    expectProblem(await refresh(second.refresh_token), 403, 'account_disabled');
    // A wrong password still gets the usual answer: being disabled is told only to the password's holder.
    expectProblem(await login(ctx.app, user.login, 'not the password at all'), 401, 'invalid_credentials');

    expect((await adminCall('POST', `/v1/users/${user.id}/enable`)).statusCode).toBe(204);
    const again = await login(ctx.app, user.login);
    expect(again.statusCode).toBe(200);
    expect((await me(again.json().access_token)).statusCode).toBe(200);
    // Sessions ended by the disable stay ended.
    expectProblem(await refresh(second.refresh_token), 401, 'refresh_token_invalid');
  });

  it('a login racing with a disable gets no session: the disable and the session insert wait for each other', async () => {
    const { user } = await registerAndLogin(ctx.app);
    // A disable in flight: the row is updated, not yet committed.
    const admin = new pg.Client({ connectionString: ctx.config.databaseUrl });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query('UPDATE users SET disabled_at = now() WHERE id = $1', [user.id]);
      const racing = login(ctx.app, user.login);
      // Wait until the login's session insert queues behind the disable's row lock.
      for (let i = 0; i < 200; i++) {
        const { rows } = await admin.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await admin.query('COMMIT');
      expectProblem(await racing, 403, 'account_disabled');
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [
        user.id,
      ]);
      expect(rows[0].n).toBe(1);
    } finally {
      await admin.end();
    }
  });

  it('is for admins only, refuses their own account, and 404s an unknown user', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const other = await registerAndLogin(ctx.app);
    expectProblem(
      await adminCall('POST', `/v1/users/${other.user.id}/disable`, bearer(tokens.access_token)),
      403,
      'forbidden',
    );
    expectProblem(
      await ctx.app.inject({ method: 'POST', url: `/v1/users/${other.user.id}/disable` }),
      401,
      'authentication_required',
    );
    const adminId = (await me(admin.access_token)).json().id as string;
    expectProblem(await adminCall('POST', `/v1/users/${adminId}/disable`), 409, 'own_account');
    expectProblem(await adminCall('DELETE', `/v1/users/${adminId}`), 409, 'own_account');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectProblem(await adminCall('POST', `/v1/users/${unknown}/disable`), 404, 'user_not_found');
    expectProblem(await adminCall('POST', `/v1/users/${unknown}/enable`), 404, 'user_not_found');
    expectProblem(await adminCall('DELETE', `/v1/users/${unknown}`), 404, 'user_not_found');
    expect((await me(tokens.access_token)).json().id).toBe(user.id);
  });
});

describe('DELETE /v1/users/{id}', () => {
  it('revokes the tokens everywhere within 1 s, removes the account and its roles', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const granted = await ctx.app.inject({
      method: 'POST',
      url: '/v1/role/user',
      headers: asAdmin(),
      payload: { login: user.login, role: 'premium' },
    });
    expect(granted.json().roles).toEqual(['premium']);
    const verifier = otherServiceVerifier();
    await verifier.verifyAccessToken(tokens.access_token);

    expect((await adminCall('DELETE', `/v1/users/${user.id}`)).statusCode).toBe(204);
    expect(await msUntilRevoked(verifier, tokens.access_token, Date.now())).toBeLessThan(1_000);
    expectProblem(await login(ctx.app, user.login), 401, 'invalid_credentials');
    expectProblem(await refresh(tokens.refresh_token), 401, 'refresh_token_invalid');
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: `/v1/role/user?login=${user.login}`, headers: asAdmin() }),
      404,
      'user_not_found',
    );
    expectProblem(await adminCall('DELETE', `/v1/users/${user.id}`), 404, 'user_not_found');

    // The login is free again, for a new account with no roles.
    const reborn = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login: user.login, password: PASSWORD, email: user.email },
    });
    expect(reborn.statusCode).toBe(201);
    expect(reborn.json().id).not.toBe(user.id);
  });
});

describe('GET /internal/v1/users/{id}', () => {
  it("gives a service the user's current email and login, not what an old token says", async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const fresh = uniqueLogin('moved');
    const patched = await ctx.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
      // A login changes at once (an email only once confirmed: test/email.test.ts).
      payload: { login: fresh, current_password: PASSWORD },
    });
    expect(patched.statusCode).toBe(200);
    const token = await serviceToken(ctx.app);
    const response = await ctx.app.inject({
      method: 'GET',
      url: `/internal/v1/users/${user.id}`,
      headers: bearer(token),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: user.id,
      login: fresh,
      email: user.email,
      disabled: false,
    });
  });

  it('needs a service token with the roles:write scope; unknown users are 404', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const url = `/internal/v1/users/${user.id}`;
    expectProblem(await ctx.app.inject({ method: 'GET', url }), 401, 'authentication_required');
    expectProblem(
      await ctx.app.inject({ method: 'GET', url, headers: bearer(tokens.access_token) }),
      401,
      'token_invalid',
    );
    const reporting = await serviceToken(ctx.app, 'reporting', 'reporting-secret-0123456789');
    expectProblem(
      await ctx.app.inject({ method: 'GET', url, headers: bearer(reporting) }),
      403,
      'insufficient_scope',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'GET',
        url: '/internal/v1/users/00000000-0000-4000-8000-000000000000',
        headers: bearer(await serviceToken(ctx.app)),
      }),
      404,
      'user_not_found',
    );
  });
});
