/**
 * TOTP: set-up, confirmation with recovery codes, the two-step login, replay
 * refusal, the lockout, and turning it off. Codes are computed from the
 * secret as an authenticator app would (otplib), for the current and the
 * next 30-second step (the server accepts one step either side).
 */
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  expectProblem,
  login,
  PASSWORD,
  registerAndLogin,
  startApp,
  type TestContext,
  type Tokens,
} from './helpers.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await startApp({ LOCKOUT_THRESHOLD: '4' });
});
afterAll(async () => {
  await ctx?.close();
});

const post = (url: string, payload: object, token?: string) =>
  ctx.app.inject({ method: 'POST', url, payload, ...(token ? { headers: bearer(token) } : {}) });

/** The code an authenticator shows `steps` 30-second steps from now. */
const codeAt = (secret: string, steps = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });

async function withTotp() {
  const { user, tokens } = await registerAndLogin(ctx.app);
  const setup = await post('/v1/auth/mfa/totp/setup', {}, tokens.access_token);
  expect(setup.statusCode, setup.body).toBe(200);
  const { secret, otpauth_uri, qr_svg } = setup.json() as {
    secret: string;
    otpauth_uri: string;
    qr_svg: string;
  };
  const confirmed = await post(
    '/v1/auth/mfa/totp/confirm',
    { code: await codeAt(secret) },
    tokens.access_token,
  );
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  const { recovery_codes } = confirmed.json() as { recovery_codes: string[] };
  return { user, tokens, secret, otpauth_uri, qr_svg, recoveryCodes: recovery_codes };
}

async function ticketFor(loginName: string): Promise<string> {
  const response = await login(ctx.app, loginName);
  const body = expectProblem(response, 401, 'mfa_required') as { mfa_ticket?: string; expires_in?: number };
  expect(body.expires_in).toBe(300);
  return body.mfa_ticket!;
}

describe('TOTP set-up', () => {
  it('hands out a secret, its otpauth URI and a QR code; login is unchanged until confirmed', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const setup = await post('/v1/auth/mfa/totp/setup', {}, tokens.access_token);
    expect(setup.statusCode).toBe(200);
    expect(setup.headers['cache-control']).toBe('no-store');
    const { secret, otpauth_uri, qr_svg } = setup.json() as Record<string, string>;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauth_uri!);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe(`/tollgate:${user.login}`);
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(qr_svg).toMatch(/<svg[^>]*>/);
    expect((await login(ctx.app, user.login)).statusCode).toBe(200);

    expectProblem(
      await post('/v1/auth/mfa/totp/confirm', { code: '000000' }, tokens.access_token),
      401,
      'mfa_code_invalid',
    );
  });

  it('confirms with a code, answers ten distinct recovery codes, and refuses a second set-up', async () => {
    const { tokens, recoveryCodes } = await withTotp();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    expectProblem(await post('/v1/auth/mfa/totp/setup', {}, tokens.access_token), 409, 'mfa_already_enabled');
  });
});

describe('login with TOTP on', () => {
  it('answers mfa_required with a ticket, then tokens for the ticket and a code; a code works once', async () => {
    const { user, secret } = await withTotp();
    const ticket = await ticketFor(user.login);
    const code = await codeAt(secret, 1);
    const done = await post('/v1/auth/login/mfa', { ticket, code });
    expect(done.statusCode, done.body).toBe(200);
    const pair = done.json() as Tokens;
    expect(
      (await ctx.app.inject({ url: '/v1/auth/me', headers: bearer(pair.access_token) })).statusCode,
    ).toBe(200);

    // The ticket is spent, and the same code again is a replay, even with a new ticket.
    expectProblem(await post('/v1/auth/login/mfa', { ticket, code }), 401, 'mfa_ticket_invalid');
    expectProblem(
      await post('/v1/auth/login/mfa', { ticket: await ticketFor(user.login), code }),
      401,
      'mfa_code_invalid',
    );
  });

  it('takes a recovery code once', async () => {
    const { user, recoveryCodes } = await withTotp();
    const recovery = recoveryCodes[3]!;
    const first = await post('/v1/auth/login/mfa', {
      ticket: await ticketFor(user.login),
      code: recovery.toUpperCase(),
    });
    expect(first.statusCode, first.body).toBe(200);
    expectProblem(
      await post('/v1/auth/login/mfa', { ticket: await ticketFor(user.login), code: recovery }),
      401,
      'mfa_code_invalid',
    );
  });

  it('counts wrong codes into the account lockout', async () => {
    const { user, secret } = await withTotp();
    const ticket = await ticketFor(user.login);
    for (let i = 0; i < 4; i++)
      expectProblem(await post('/v1/auth/login/mfa', { ticket, code: '000000' }), 401, 'mfa_code_invalid');
    // Locked now: even the right code waits, and so does the password step.
    expectProblem(
      await post('/v1/auth/login/mfa', { ticket, code: await codeAt(secret, 1) }),
      429,
      'account_locked',
    );
    expectProblem(await login(ctx.app, user.login), 429, 'account_locked');
  });

  it('voids a ticket after five tries', async () => {
    const { user, secret } = await withTotp();
    const ticket = await ticketFor(user.login);
    // Another address, so the lockout (per account and address) does not answer first.
    for (let i = 0; i < 5; i++) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/login/mfa',
        payload: { ticket, code: '000000' },
        remoteAddress: `10.9.0.${i + 1}`,
      });
      expectProblem(response, 401, 'mfa_code_invalid');
    }
    const late = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { ticket, code: await codeAt(secret, 1) },
      remoteAddress: '10.9.0.99',
    });
    expectProblem(late, 401, 'mfa_ticket_invalid');
  });
});

describe('turning TOTP off', () => {
  it('needs the password and a code; then login is one step again', async () => {
    const { user, tokens, secret } = await withTotp();
    expectProblem(
      await post(
        '/v1/auth/mfa/totp/disable',
        { password: 'not the password', code: await codeAt(secret, 1) },
        tokens.access_token,
      ),
      403,
      'current_password_invalid',
    );
    expectProblem(
      await post('/v1/auth/mfa/totp/disable', { password: PASSWORD, code: '000000' }, tokens.access_token),
      401,
      'mfa_code_invalid',
    );
    const off = await post(
      '/v1/auth/mfa/totp/disable',
      { password: PASSWORD, code: await codeAt(secret, 1) },
      tokens.access_token,
    );
    expect(off.statusCode, off.body).toBe(204);
    expect((await login(ctx.app, user.login)).statusCode).toBe(200);
  });
});
