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
  it('changes login and email', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const login2 = uniqueLogin('renamed');
    const response = await ctx.app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
      payload: { login: login2, email: `${login2}@example.org` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ login: login2, email: `${login2}@example.org` });
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
        payload: { login: a.user.login },
      }),
      409,
      'login_taken',
    );
    expectProblem(
      await ctx.app.inject({
        method: 'PATCH',
        url: '/v1/auth/me',
        headers: bearer(b.tokens.access_token),
        payload: { email: a.user.email },
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
