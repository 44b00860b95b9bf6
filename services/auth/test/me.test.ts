import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  expectProblem,
  login,
  PASSWORD,
  registerAndLogin,
  startApp,
  type TestContext,
  uniqueLogin,
} from './helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startApp();
});
afterAll(async () => ctx.close());

describe('GET /v1/auth/me', () => {
  it('returns the current user and their roles', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const response = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: user.id, login: user.login, email: user.email, roles: [] });
  });
});

describe('PATCH /v1/auth/me', () => {
  it('changes the login at once and the email once the new address confirms it (test/email.test.ts)', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const login2 = uniqueLogin('renamed');
    const response = await ctx.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
      payload: { login: login2, email: `${login2}@example.org`, current_password: PASSWORD },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ login: login2, email: user.email, email_verified: false });
    expect((await login(ctx.app, login2)).statusCode).toBe(200);
  });

  it('refuses a login or email another user has', async () => {
    const a = await registerAndLogin(ctx.app);
    const b = await registerAndLogin(ctx.app);
    expectProblem(
      await ctx.app.inject({
        method: 'PATCH',
        url: '/v1/auth/me',
        headers: bearer(b.tokens.access_token),
        payload: { login: a.user.login, current_password: PASSWORD },
      }),
      409,
      'login_taken',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'PATCH',
        url: '/v1/auth/me',
        headers: bearer(b.tokens.access_token),
        payload: { email: a.user.email, current_password: PASSWORD },
      }),
      409,
      'email_taken',
    );
  });

  it('needs the right current_password to change the password, and checks the new one', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const patch = (payload: Record<string, string>) =>
      ctx.app.inject({ method: 'PATCH', url: '/v1/auth/me', headers: bearer(tokens.access_token), payload });
    expectProblem(await patch({ password: 'a brand new password' }), 400, 'current_password_required');
    expectProblem(
      await patch({ password: 'a brand new password', current_password: 'wrong one here' }),
      403,
      'current_password_invalid',
    );
    expectProblem(await patch({ password: 'qwerty123', current_password: PASSWORD }), 400, 'weak_password');
    expectProblem(await patch({}), 400, 'validation_failed');
  });

  it('needs the right current_password to change login or email too (a token alone is not enough)', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const patch = (payload: Record<string, string>) =>
      ctx.app.inject({ method: 'PATCH', url: '/v1/auth/me', headers: bearer(tokens.access_token), payload });
    const login2 = uniqueLogin('taken');
    expectProblem(await patch({ login: login2 }), 400, 'current_password_required');
    expectProblem(await patch({ email: `${login2}@example.org` }), 400, 'current_password_required');
    expectProblem(
      await patch({ email: `${login2}@example.org`, current_password: 'wrong one here' }),
      403,
      'current_password_invalid',
    );
    const unchanged = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
    });
    expect(unchanged.json()).toMatchObject({ login: user.login, email: user.email });
    // Sending the current values changes nothing, so it needs no password.
    expect((await patch({ login: user.login })).statusCode).toBe(200);
  });

  it('a password change ends the other sessions but keeps this one', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const other = (await login(ctx.app, user.login)).json();
    const response = await ctx.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
      payload: { password: 'a brand new password', current_password: PASSWORD },
    });
    expect(response.statusCode).toBe(200);
    expect(
      (await ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(tokens.access_token) }))
        .statusCode,
    ).toBe(200);
    expectProblem(
      await ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(other.access_token) }),
      401,
      'token_revoked',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: other.refresh_token },
      }),
      401,
      'refresh_token_invalid',
    );
    expectProblem(await login(ctx.app, user.login, PASSWORD), 401, 'invalid_credentials');
    expect((await login(ctx.app, user.login, 'a brand new password')).statusCode).toBe(200);
  });
});

describe('PATCH /v1/auth/me is no password oracle', () => {
  let limited: TestContext;
  beforeAll(async () => {
    limited = await startApp({
      LOCKOUT_THRESHOLD: '3',
      LOCKOUT_BASE_SECONDS: '60',
      ACCOUNT_RATE_LIMIT_PER_HOUR: '5',
    });
  });
  afterAll(async () => limited.close());

  const patchFrom = (token: string, ip: string, payload: Record<string, string>) =>
    limited.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(token),
      payload,
      remoteAddress: ip,
    });

  it('counts wrong current_password answers into the login lockout of the account', async () => {
    const ip = '198.51.100.70';
    const { user, tokens } = await registerAndLogin(limited.app, ip);
    for (let i = 0; i < 3; i++) {
      expectProblem(
        await patchFrom(tokens.access_token, ip, {
          password: 'a brand new password',
          current_password: `guess ${i}`,
        }),
        403,
        'current_password_invalid',
      );
    }
    // Locked now: even the right password is refused, here and at login.
    expectProblem(
      await patchFrom(tokens.access_token, ip, {
        password: 'a brand new password',
        current_password: PASSWORD,
      }),
      429,
      'account_locked',
    );
    expectProblem(await login(limited.app, user.login, PASSWORD, ip), 429, 'account_locked');
    expectProblem(await login(limited.app, user.email, PASSWORD, ip), 429, 'account_locked');
  });

  it('failed logins count against PATCH /me too (one budget per account)', async () => {
    const ip = '198.51.100.71';
    const { user, tokens } = await registerAndLogin(limited.app, ip);
    for (let i = 0; i < 3; i++) await login(limited.app, user.login, `wrong guess ${i}`, ip);
    expectProblem(
      await patchFrom(tokens.access_token, ip, {
        email: `${user.login}@example.net`,
        current_password: PASSWORD,
      }),
      429,
      'account_locked',
    );
  });

  it('is rate limited per client address', async () => {
    const ip = '198.51.100.72';
    const { tokens } = await registerAndLogin(limited.app, ip);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await patchFrom(tokens.access_token, ip, { login: uniqueLogin('probe') });
      statuses.push(response.statusCode);
      if (i === 5) {
        expectProblem(response, 429, 'rate_limited');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
  });
});
