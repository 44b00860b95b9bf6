/**
 * The admin panel with ADMIN_REQUIRE_MFA: it logs in through auth (the real
 * auth app of the stack) as a user with the admin role and TOTP on — the
 * password, then a code on a second form. Without TOTP the panel says to set
 * it up; a code that is wrong shows the form again; billing's own
 * ADMIN_LOGIN/ADMIN_PASSWORD no longer open it.
 */
import { createPrismaClient as createAuthPrisma, createRolesService } from '@tollgate/auth';
import { generate } from 'otplib';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { newUser, type Stack, startStack, type TestUser } from './stack.js';

let stack: Stack;
const FORM = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' };

beforeAll(async () => {
  stack = await startStack({ ADMIN_REQUIRE_MFA: 'true' }, { workers: false });
});
afterAll(async () => stack?.close());

async function grantAdmin(user: TestUser) {
  const db = createAuthPrisma(inject('authDatabaseUrl'));
  try {
    await createRolesService(db).grantManually(user.login, 'admin');
  } finally {
    await db.$disconnect();
  }
}

/** Turns TOTP on at auth; answers the secret. */
async function withTotp(user: TestUser): Promise<string> {
  const headers = { authorization: `Bearer ${user.token}` };
  const setup = await stack.auth.app.inject({ method: 'POST', url: '/v1/auth/mfa/totp/setup', headers });
  const { secret } = setup.json() as { secret: string };
  const confirmed = await stack.auth.app.inject({
    method: 'POST',
    url: '/v1/auth/mfa/totp/confirm',
    headers,
    payload: { code: await generate({ secret }) },
  });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return secret;
}

const passwordStep = (login: string, password = 'plausible tangerine 42') =>
  stack.app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: FORM,
    payload: new URLSearchParams({ email: login, password }).toString(),
  });

const codeStep = (cookie: string, code: string) =>
  stack.app.inject({
    method: 'POST',
    url: '/admin/login/code',
    headers: { ...FORM, cookie },
    payload: new URLSearchParams({ code }).toString(),
  });

const cookieOf = (response: { headers: Record<string, unknown> }) =>
  String(response.headers['set-cookie']).split(';')[0]!;

it("no longer takes billing's own ADMIN_LOGIN/ADMIN_PASSWORD", async () => {
  expect((await passwordStep('admin', 'admin')).statusCode).toBe(401);
});

it('tells an admin without TOTP to set it up', async () => {
  const admin = await newUser(stack);
  await grantAdmin(admin);
  const response = await passwordStep(admin.login);
  expect(response.statusCode).toBe(403);
  expect(response.body).toContain('second factor');
});

it('asks an admin with TOTP for the code after the password, and lets them in with it', async () => {
  const admin = await newUser(stack);
  await grantAdmin(admin);
  const secret = await withTotp(admin);

  const first = await passwordStep(admin.login);
  expect(first.statusCode, first.body).toBe(200);
  expect(first.body).toContain('action="/admin/login/code"');
  const pending = cookieOf(first);
  // Not in yet: the panel still redirects to the login.
  expect(
    (await stack.app.inject({ method: 'GET', url: '/admin', headers: { cookie: pending } })).statusCode,
  ).toBe(302);

  const wrong = await codeStep(pending, '000000');
  expect(wrong.statusCode).toBe(401);
  expect(wrong.body).toContain('not right');

  const next = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
  const right = await codeStep(pending, next);
  expect(right.statusCode, right.body).toBe(302);
  expect(right.headers.location).toBe('/admin');
  const page = await stack.app.inject({ method: 'GET', url: '/admin', headers: { cookie: cookieOf(right) } });
  expect(page.statusCode).toBe(200);
});

it('refuses a user with TOTP but without the admin role, after the code', async () => {
  const user = await newUser(stack);
  const secret = await withTotp(user);
  const first = await passwordStep(user.login);
  expect(first.statusCode).toBe(200);
  const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
  const response = await codeStep(cookieOf(first), code);
  expect(response.statusCode).toBe(403);
});

it('sends a code without a password step back to the login', async () => {
  const response = await codeStep('', '123456');
  expect(response.statusCode).toBe(302);
  expect(response.headers.location).toBe('/admin/login');
});
