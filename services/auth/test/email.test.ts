/**
 * Email verification, password reset and email change, end to end: auth
 * mails through real SMTP (smtp-server), the tests follow the links.
 */
import { Writable } from 'node:stream';
import { linkIn, type MailCatcher, startMailCatcher } from '@tollgate/test-kit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import {
  bearer,
  expectProblem,
  login,
  newKeySet,
  PASSWORD,
  register,
  type Tokens,
  testConfig,
  uniqueLogin,
} from './helpers.js';

const PUBLIC_URL = 'https://tollgate.test';
const VERIFY = /confirm your email/i;
const RESET = /reset your password/i;

let app: FastifyInstance;
let mail: MailCatcher;
const logLines: string[] = [];

beforeAll(async () => {
  mail = await startMailCatcher();
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  app = await buildApp(testConfig({ SMTP_URL: mail.smtpUrl, PUBLIC_URL, LOG_LEVEL: 'info' }), {
    keys: await newKeySet(),
    logStream,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await mail?.close();
});

const claims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function loggedIn(name: string, password = PASSWORD): Promise<Tokens> {
  const response = await login(app, name, password);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Tokens;
}

const post = (url: string, payload: object, token?: string) =>
  app.inject({ method: 'POST', url, payload, ...(token ? { headers: bearer(token) } : {}) });

describe('email verification', () => {
  it('mails a link on registration; following it verifies the address, once', async () => {
    const user = await register(app);
    const before = await loggedIn(user.login);
    expect(claims(before.access_token).email_verified).toBe(false);

    const message = await mail.waitFor(user.email, VERIFY);
    expect(message.html).toContain('Confirm my email');
    const { url, token } = linkIn(message, 'verify-email');
    // The token is in the fragment: a browser never sends it to a server or in a Referer.
    expect(`${url.origin}${url.pathname}${url.search}`).toBe(`${PUBLIC_URL}/`);

    const verified = await post('/v1/auth/email/verify', { token });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toEqual({ email: user.email, email_verified: true });

    const after = await loggedIn(user.login);
    expect(claims(after.access_token).email_verified).toBe(true);
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(after.access_token) });
    expect(me.json()).toMatchObject({ email: user.email, email_verified: true });

    expectProblem(await post('/v1/auth/email/verify', { token }), 400, 'email_token_invalid');
  });

  it('resend replaces the earlier link; a verified address has nothing to resend', async () => {
    const user = await register(app);
    const tokens = await loggedIn(user.login);
    const first = linkIn(await mail.waitFor(user.email, VERIFY, 1), 'verify-email').token;

    const resent = await post('/v1/auth/email/resend', {}, tokens.access_token);
    expect(resent.statusCode, resent.body).toBe(202);
    const second = linkIn(await mail.waitFor(user.email, VERIFY, 2), 'verify-email').token;
    expect(second).not.toBe(first);

    expectProblem(await post('/v1/auth/email/verify', { token: first }), 400, 'email_token_invalid');
    expect((await post('/v1/auth/email/verify', { token: second })).statusCode).toBe(200);
    expectProblem(
      await post('/v1/auth/email/resend', {}, tokens.access_token),
      409,
      'email_already_verified',
    );
  });

  it('refuses an expired link', async () => {
    const user = await register(app);
    const { token } = linkIn(await mail.waitFor(user.email, VERIFY), 'verify-email');
    await app.authContext.db.emailToken.updateMany({
      where: { userId: user.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expectProblem(await post('/v1/auth/email/verify', { token }), 400, 'email_token_invalid');
  });

  it('refuses made-up tokens', async () => {
    expectProblem(await post('/v1/auth/email/verify', { token: 'A'.repeat(43) }), 400, 'email_token_invalid');
  });
});

describe('password reset', () => {
  it('answers the same whether or not the account exists', async () => {
    const user = await register(app);
    const known = await post('/v1/auth/password/forgot', { login_or_email: user.email });
    const unknown = await post('/v1/auth/password/forgot', {
      login_or_email: `${uniqueLogin()}@example.com`,
    });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.body).toBe(known.body);
    await mail.waitFor(user.email, RESET);
  });

  it('sets the new password with the mailed token, once, and ends every session', async () => {
    const user = await register(app);
    const session = await loggedIn(user.login);
    expect((await post('/v1/auth/password/forgot', { login_or_email: user.login })).statusCode).toBe(202);
    const { token } = linkIn(await mail.waitFor(user.email, RESET), 'reset-password');

    // A refused password does not spend the link.
    expectProblem(await post('/v1/auth/password/reset', { token, password: 'short' }), 400, 'weak_password');
    const newPassword = 'a brand new passphrase 7';
    const reset = await post('/v1/auth/password/reset', { token, password: newPassword });
    expect(reset.statusCode, reset.body).toBe(204);

    expectProblem(
      await app.inject({ url: '/v1/auth/me', headers: bearer(session.access_token) }),
      401,
      'token_revoked',
    );
    expectProblem(
      await post('/v1/auth/refresh-token', { refresh_token: session.refresh_token }),
      401,
      'refresh_token_invalid',
    );
    expectProblem(await login(app, user.login, PASSWORD), 401, 'invalid_credentials');
    const fresh = await loggedIn(user.login, newPassword);
    // Following the link proved the address too.
    expect(claims(fresh.access_token).email_verified).toBe(true);

    expectProblem(
      await post('/v1/auth/password/reset', { token, password: 'yet another passphrase 8' }),
      400,
      'email_token_invalid',
    );
  });

  it('sends nothing for an unknown account', async () => {
    const address = `${uniqueLogin()}@example.com`;
    await post('/v1/auth/password/forgot', { login_or_email: address });
    // The known account's mail, asked for afterwards, arrives; the unknown one never got one.
    const user = await register(app);
    await post('/v1/auth/password/forgot', { login_or_email: user.login });
    await mail.waitFor(user.email, RESET);
    expect(mail.to(address)).toEqual([]);
  });
});

describe('email change', () => {
  it('confirms with the new address, tells the old one, and changes only when confirmed', async () => {
    const user = await register(app);
    const tokens = await loggedIn(user.login);
    const newEmail = `${uniqueLogin()}@example.org`;
    const patched = await app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(tokens.access_token),
      payload: { email: newEmail, current_password: PASSWORD },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ email: user.email });

    const notice = await mail.waitFor(user.email, /being changed/i);
    expect(notice.text).toContain(newEmail);
    expect(notice.text).not.toMatch(/#confirm-email=/);
    const { token } = linkIn(await mail.waitFor(newEmail, /new email/i), 'confirm-email');

    const confirmed = await post('/v1/auth/email/verify', { token });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toEqual({ email: newEmail, email_verified: true });
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(tokens.access_token) });
    expect(me.json()).toMatchObject({ email: newEmail, email_verified: true });
    expect((await login(app, newEmail)).statusCode).toBe(200);
  });

  it('refuses an address another account has, before sending anything', async () => {
    const a = await register(app);
    const b = await register(app);
    const tokens = await loggedIn(a.login);
    expectProblem(
      await app.inject({
        method: 'PATCH',
        url: '/v1/auth/me',
        headers: bearer(tokens.access_token),
        payload: { email: b.email, current_password: PASSWORD },
      }),
      409,
      'email_taken',
    );
  });
});

describe('logs', () => {
  it('never carry a mailed token', async () => {
    const user = await register(app);
    const verifyToken = linkIn(await mail.waitFor(user.email, VERIFY), 'verify-email').token;
    await post('/v1/auth/email/verify', { token: verifyToken });
    await post('/v1/auth/password/forgot', { login_or_email: user.login });
    const resetToken = linkIn(await mail.waitFor(user.email, RESET), 'reset-password').token;
    await post('/v1/auth/password/reset', { token: resetToken, password: 'log check passphrase 99' });
    const logs = logLines.join('');
    expect(logs).toContain('mail sent');
    expect(logs).not.toContain(verifyToken);
    expect(logs).not.toContain(resetToken);
  });
});
