import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '../src/db/prisma.js';
import {
  bearer,
  expectProblem,
  login,
  PASSWORD,
  register,
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

describe('POST /v1/auth/register', () => {
  it('creates an account and answers 201 with id, login and email', async () => {
    const name = uniqueLogin();
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login: name, password: PASSWORD, email: `${name}@Example.com` },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      login: name,
      email: `${name}@example.com`,
    });
    expect(body).not.toHaveProperty('password');
    expect(response.headers['x-request-id']).toBeTruthy();
  });

  it('stores an argon2id hash with the OWASP parameters, never the password', async () => {
    const user = await register(ctx.app);
    const db = createPrismaClient(ctx.config.databaseUrl);
    try {
      const row = await db.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
      expect(row.passwordHash).not.toContain(PASSWORD);
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses a taken login or email with 409, case-insensitively', async () => {
    const user = await register(ctx.app);
    const again = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login: user.login.toUpperCase(), password: PASSWORD, email: 'other@example.com' },
    });
    expectProblem(again, 409, 'login_taken');
    const sameEmail = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login: uniqueLogin(), password: PASSWORD, email: user.email.toUpperCase() },
    });
    expectProblem(sameEmail, 409, 'email_taken');
  });

  it('lets exactly one of 50 concurrent registrations of one login succeed', async () => {
    const name = uniqueLogin('race');
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ctx.app.inject({
          method: 'POST',
          url: '/v1/auth/register',
          payload: { login: name, password: PASSWORD, email: `${name}-${i}@example.com` },
        }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of responses.filter((r) => r.statusCode === 409)) expect(r.json().code).toBe('login_taken');
  });

  it.each([
    ['malformed email', { email: 'not-an-email' }],
    ['malformed login', { login: 'has space' }],
    ['too short login', { login: 'ab' }],
    ['missing password', { password: undefined }],
    ['unknown field', { is_admin: true }],
  ])('refuses a %s with 400 validation_failed', async (_name, change) => {
    const name = uniqueLogin();
    const payload = { login: name, password: PASSWORD, email: `${name}@example.com`, ...change };
    const response = await ctx.app.inject({ method: 'POST', url: '/v1/auth/register', payload });
    expectProblem(response, 400, 'validation_failed');
  });

  it('names the unknown field', async () => {
    const name = uniqueLogin();
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login: name, password: PASSWORD, email: `${name}@example.com`, role: 'admin' },
    });
    const body = expectProblem(response, 400, 'validation_failed') as { errors: { unknownField?: string }[] };
    expect(body.errors[0]?.unknownField).toBe('role');
  });

  it.each([
    ['shorter than 8 characters', 'short', 'too_short'],
    ['longer than 128 characters', 'x'.repeat(129), 'too_long'],
    ['one of the most common', 'password1', 'too_common'],
    ['common, in another case', 'Iloveyou', 'too_common'],
  ])('refuses a password %s', async (_name, password, reason) => {
    const name = uniqueLogin();
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login: name, password, email: `${name}@example.com` },
    });
    expect(expectProblem(response, 400, 'weak_password')).toMatchObject({ reason });
  });

  it('accepts a long passphrase without composition rules, counting characters not bytes', async () => {
    const user = await register(ctx.app, uniqueLogin(), 'ёжик в тумане идёт домой');
    expect(user.login).toBeTruthy();
    const user2 = await register(ctx.app, uniqueLogin(), 'x'.repeat(128));
    expect(user2.login).toBeTruthy();
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ login: 'big', password: 'x'.repeat(70 * 1024), email: 'big@example.com' }),
    });
    expectProblem(response, 413, 'body_too_large');
  });

  it('answers 400 for a malformed JSON body', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: '{"login": ',
    });
    expectProblem(response, 400, 'malformed_body');
  });
});

describe('credentials in the query string', () => {
  it.each([
    ['/v1/auth/register?login=foo&password=bar&email=foo%40bar.com', 'POST', 'password'],
    ['/v1/auth/login?login=foo&password=bar', 'POST', 'password'],
    ['/v1/role/user?jwt=abc&login=foo', 'GET', 'jwt'],
    ['/v1/auth/me?access_token=abc', 'GET', 'access_token'],
    ['/v1/auth/refresh-token?refresh_token=abc', 'POST', 'refresh_token'],
  ] as const)('%s -> 400 naming where credentials go', async (url, method, param) => {
    const response = await ctx.app.inject({ method, url });
    const body = expectProblem(response, 400, 'credentials_in_query') as {
      detail: string;
      parameters: string[];
    };
    expect(body.parameters).toContain(param);
    expect(body.detail).toMatch(/JSON request body/);
    expect(body.detail).toMatch(/Authorization: Bearer/);
  });
});

describe('POST /v1/auth/login', () => {
  it('returns a token pair for the right password, by login or by email', async () => {
    const user = await register(ctx.app);
    for (const name of [user.login, user.email]) {
      const response = await login(ctx.app, name);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
      expect(body.access_token.split('.')).toHaveLength(3);
      expect(body.refresh_token.length).toBeGreaterThanOrEqual(43);
    }
  });

  it('gives the same answer for an unknown login and a wrong password', async () => {
    const user = await register(ctx.app);
    const wrong = await login(ctx.app, user.login, 'not the password at all');
    const unknown = await login(ctx.app, uniqueLogin('ghost'), 'not the password at all');
    const a = expectProblem(wrong, 401, 'invalid_credentials');
    const b = expectProblem(unknown, 401, 'invalid_credentials');
    expect({ ...a, requestId: undefined }).toEqual({ ...b, requestId: undefined });
  });

  it('takes similar time for an unknown login and a wrong password (both verify an argon2 hash)', async () => {
    const user = await register(ctx.app);
    const time = async (name: string) => {
      const started = performance.now();
      await login(ctx.app, name, 'not the password at all', '10.9.9.9');
      return performance.now() - started;
    };
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      wrong.push(await time(user.login));
      unknown.push(await time(uniqueLogin('ghost')));
    }
    // Without the dummy verification an unknown login answers in ~1 ms
    // against ~20 ms for a wrong password.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
  });

  it('records successful and failed attempts with IP and user agent in the login history, paginated', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: user.login, password: 'wrong password here' },
      remoteAddress: '203.0.113.7',
      headers: { 'user-agent': 'history-test/1.0' },
    });
    await login(ctx.app, user.login);
    const page1 = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/login-history?page_size=2&page_number=1',
      headers: bearer(tokens.access_token),
    });
    expect(page1.statusCode).toBe(200);
    const body = page1.json();
    expect(body).toMatchObject({
      has_next: true,
      has_prev: false,
      total_pages: 2,
      page_size: 2,
      current_page: 1,
    });
    expect(body.data).toHaveLength(2);
    expect(body.data[0].success).toBe(true);
    expect(body.data[1]).toMatchObject({
      success: false,
      ip: '203.0.113.7',
      user_agent: 'history-test/1.0',
      reason: 'wrong_password',
    });
    const page2 = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/login-history?page_size=2&page_number=2',
      headers: bearer(tokens.access_token),
    });
    expect(page2.json()).toMatchObject({ has_next: false, has_prev: true, current_page: 2 });
    expect(page2.json().data).toHaveLength(1);
    const bad = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/login-history?page_size=1000',
      headers: bearer(tokens.access_token),
    });
    expectProblem(bad, 400, 'validation_failed');
  });

  it('upgrades a hash made with older argon2 parameters on the next login', async () => {
    const { createPasswordHasher } = await import('../src/domain/passwords/password-hasher.js');
    const weak = await createPasswordHasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const { buildApp } = await import('../src/app.js');
    const weakApp = await buildApp(ctx.config, { keys: ctx.keys, hasher: weak, logging: false });
    const user = await register(weakApp);
    await weakApp.close();
    const db = createPrismaClient(ctx.config.databaseUrl);
    try {
      const before = await db.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(before.passwordHash).toContain('m=4096,p=1,t=1');
      expect((await login(ctx.app, user.login)).statusCode).toBe(200);
      const after = await db.user.findUniqueOrThrow({ where: { id: user.id } });
      expect(after.passwordHash).toContain('m=19456,p=1,t=2');
      expect((await login(ctx.app, user.login)).statusCode).toBe(200);
    } finally {
      await db.$disconnect();
    }
  });
});
