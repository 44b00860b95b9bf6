/**
 * ADMIN_REQUIRE_MFA: an admin without a second factor logs in (to set one
 * up) but admin routes answer 403 mfa_setup_required; with TOTP on (or a
 * passkey) they work again. Off (the default), nothing changes. Each test
 * makes its own admin: the configured superuser is shared with other files.
 */
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '../src/db/prisma.js';
import { createRolesService } from '../src/domain/roles/roles.service.js';
import {
  bearer,
  expectProblem,
  login,
  registerAndLogin,
  startApp,
  type TestContext,
  type Tokens,
} from './helpers.js';

let strict: TestContext;
let lenient: TestContext;
let db: Db;

beforeAll(async () => {
  [strict, lenient] = await Promise.all([startApp({ ADMIN_REQUIRE_MFA: 'true' }), startApp()]);
  db = createPrismaClient(strict.config.databaseUrl);
  await createRolesService(db).seedBuiltIns();
});
afterAll(async () => {
  await db?.$disconnect();
  await Promise.all([strict?.close(), lenient?.close()]);
});

async function newAdmin(ctx: TestContext) {
  const admin = await registerAndLogin(ctx.app);
  await createRolesService(db).grantManually(admin.user.login, 'admin');
  return admin;
}

/** An admin action: disabling some other user. */
async function disableSomeone(ctx: TestContext, tokens: Tokens) {
  const victim = await registerAndLogin(ctx.app);
  return ctx.app.inject({
    method: 'POST',
    url: `/v1/users/${victim.user.id}/disable`,
    headers: bearer(tokens.access_token),
  });
}

describe('ADMIN_REQUIRE_MFA=true', () => {
  it('lets an admin without a second factor log in, refuses admin routes until TOTP is on', async () => {
    const admin = await newAdmin(strict);
    expectProblem(await disableSomeone(strict, admin.tokens), 403, 'mfa_setup_required');

    // Setting TOTP up is open to them (it is not an admin route).
    const post = (url: string, payload: object) =>
      strict.app.inject({ method: 'POST', url, payload, headers: bearer(admin.tokens.access_token) });
    const { secret } = (await post('/v1/auth/mfa/totp/setup', {})).json() as { secret: string };
    const confirmed = await post('/v1/auth/mfa/totp/confirm', { code: await generate({ secret }) });
    expect(confirmed.statusCode, confirmed.body).toBe(200);

    // Logging in now takes the code, and the admin routes answer.
    const ticket = (
      expectProblem(await login(strict.app, admin.user.login), 401, 'mfa_required') as { mfa_ticket: string }
    ).mfa_ticket;
    const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
    const second = await strict.app.inject({
      method: 'POST',
      url: '/v1/auth/login/mfa',
      payload: { ticket, code },
    });
    expect(second.statusCode, second.body).toBe(200);
    const disabled = await disableSomeone(strict, second.json() as Tokens);
    expect(disabled.statusCode, disabled.body).toBe(204);
  });

  it('still answers forbidden (not mfa_setup_required) to a user without the admin role', async () => {
    const { tokens } = await registerAndLogin(strict.app);
    expectProblem(await disableSomeone(strict, tokens), 403, 'forbidden');
  });
});

describe('ADMIN_REQUIRE_MFA unset', () => {
  it('lets an admin without a second factor use admin routes', async () => {
    const admin = await newAdmin(lenient);
    const disabled = await disableSomeone(lenient, admin.tokens);
    expect(disabled.statusCode, disabled.body).toBe(204);
  });
});
