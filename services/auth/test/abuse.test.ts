import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, login, register, startApp, type TestContext, uniqueLogin } from './helpers.js';

const WRONG = 'definitely the wrong password';

describe('per-account lockout', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startApp({ LOCKOUT_THRESHOLD: '3', LOCKOUT_BASE_SECONDS: '1', LOCKOUT_MAX_SECONDS: '2' });
  });
  afterAll(async () => ctx.close());

  it('locks after the threshold, with Retry-After, refuses even the right password, and unlocks on time', async () => {
    const user = await register(ctx.app);
    const ip = '198.51.100.1';
    for (let i = 0; i < 3; i++)
      expectProblem(await login(ctx.app, user.login, WRONG, ip), 401, 'invalid_credentials');
    const locked = await login(ctx.app, user.login, user.password, ip);
    const body = expectProblem(locked, 429, 'account_locked');
    expect(locked.headers['retry-after']).toBe('1');
    expect(body).toMatchObject({ retryAfter: 1 });

    await new Promise((r) => setTimeout(r, 1_100));
    expect((await login(ctx.app, user.login, user.password, ip)).statusCode).toBe(200);
  });

  it('doubles the wait on each lockout up to the maximum', async () => {
    const user = await register(ctx.app);
    const ip = '198.51.100.2';
    const lockOnce = async () => {
      for (let i = 0; i < 3; i++) await login(ctx.app, user.login, WRONG, ip);
      return login(ctx.app, user.login, WRONG, ip);
    };
    expect((await lockOnce()).headers['retry-after']).toBe('1');
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await lockOnce()).headers['retry-after']).toBe('2');
    await new Promise((r) => setTimeout(r, 2_100));
    // Capped at LOCKOUT_MAX_SECONDS.
    expect((await lockOnce()).headers['retry-after']).toBe('2');
  });

  it('counts per account, not per identifier: failures by login lock the email too, and the reverse', async () => {
    const user = await register(ctx.app);
    const email = `${user.login}@example.com`;
    const ip = '198.51.100.6';
    for (let i = 0; i < 2; i++)
      expectProblem(await login(ctx.app, user.login, WRONG, ip), 401, 'invalid_credentials');
    expectProblem(await login(ctx.app, email.toUpperCase(), WRONG, ip), 401, 'invalid_credentials');
    expectProblem(await login(ctx.app, email, user.password, ip), 429, 'account_locked');
    expectProblem(await login(ctx.app, user.login, user.password, ip), 429, 'account_locked');
  });

  it('does not let an attacker lock the owner out: attempts from elsewhere still work', async () => {
    const user = await register(ctx.app);
    for (let i = 0; i < 5; i++) await login(ctx.app, user.login, WRONG, '192.0.2.66');
    expectProblem(await login(ctx.app, user.login, user.password, '192.0.2.66'), 429, 'account_locked');
    expect((await login(ctx.app, user.login, user.password, '192.0.2.10')).statusCode).toBe(200);
  });

  it('treats unknown logins the same way, so lockout reveals nothing about which accounts exist', async () => {
    const ghost = uniqueLogin('ghost');
    const ip = '198.51.100.3';
    for (let i = 0; i < 3; i++)
      expectProblem(await login(ctx.app, ghost, WRONG, ip), 401, 'invalid_credentials');
    expectProblem(await login(ctx.app, ghost, WRONG, ip), 429, 'account_locked');
  });

  it('does not count attempts made during a lockout, so it ends on time however hard it is hammered', async () => {
    const user = await register(ctx.app);
    const ip = '198.51.100.4';
    for (let i = 0; i < 3; i++) await login(ctx.app, user.login, WRONG, ip);
    for (let i = 0; i < 10; i++)
      expectProblem(await login(ctx.app, user.login, WRONG, ip), 429, 'account_locked');
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await login(ctx.app, user.login, user.password, ip)).statusCode).toBe(200);
  });

  it('a successful login clears the failure count', async () => {
    const user = await register(ctx.app);
    const ip = '198.51.100.5';
    for (let i = 0; i < 2; i++) await login(ctx.app, user.login, WRONG, ip);
    expect((await login(ctx.app, user.login, user.password, ip)).statusCode).toBe(200);
    for (let i = 0; i < 2; i++)
      expectProblem(await login(ctx.app, user.login, WRONG, ip), 401, 'invalid_credentials');
  });
});

describe('rate limit on registration (it tells whether a login or email is taken)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startApp({ ACCOUNT_RATE_LIMIT_PER_HOUR: '3' });
  });
  afterAll(async () => ctx.close());

  const registerFrom = (app: TestContext['app'], ip: string, login = uniqueLogin()) =>
    app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login, password: 'plausible tangerine 42', email: `${login}@example.com` },
      remoteAddress: ip,
    });

  it('answers 429 rate_limited past the hourly limit per address, taken or not, on every instance', async () => {
    const taken = await register(ctx.app, uniqueLogin(), 'plausible tangerine 42', '203.0.113.79');
    const ip = '203.0.113.80';
    expectProblem(await registerFrom(ctx.app, ip, taken.login), 409, 'login_taken');
    expect((await registerFrom(ctx.app, ip)).statusCode).toBe(201);
    expect((await registerFrom(ctx.app, ip)).statusCode).toBe(201);
    const over = await registerFrom(ctx.app, ip, taken.login);
    expectProblem(over, 429, 'rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(60);

    // The counter lives in Redis: another instance of auth refuses the address too.
    const second = await startApp({ ACCOUNT_RATE_LIMIT_PER_HOUR: '3' }, ctx.keys);
    try {
      expectProblem(await registerFrom(second.app, ip), 429, 'rate_limited');
      expect((await registerFrom(second.app, '203.0.113.81')).statusCode).toBe(201);
    } finally {
      await second.close();
    }
  });
});

describe('rate limits on credential endpoints', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startApp({ AUTH_RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => ctx.close());

  it('answers 429 rate_limited with Retry-After once a client exceeds the limit, per endpoint and per address', async () => {
    const ip = '203.0.113.50';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: 'x' },
        remoteAddress: ip,
      });
      statuses.push(response.statusCode);
      if (i === 5) {
        expectProblem(response, 429, 'rate_limited');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const elsewhere = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: 'x' },
      remoteAddress: '203.0.113.51',
    });
    expect(elsewhere.statusCode).toBe(401);
  });

  it('keeps its counters in Redis, so every instance of the service shares them', async () => {
    const ip = '203.0.113.60';
    for (let i = 0; i < 5; i++) {
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: 'x' },
        remoteAddress: ip,
      });
    }
    const second = await startApp({ AUTH_RATE_LIMIT_PER_MINUTE: '5' }, ctx.keys);
    try {
      const response = await second.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: 'x' },
        remoteAddress: ip,
      });
      expectProblem(response, 429, 'rate_limited');
    } finally {
      await second.close();
    }
  });
});
