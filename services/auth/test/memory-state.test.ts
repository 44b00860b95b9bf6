import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { memoryState } from '../src/shared-state.js';
import { bearer, expectProblem, login, newKeySet, registerAndLogin, testConfig } from './helpers.js';

// `npm start` without REDIS_URL runs every service in one process with this state.
describe('auth with in-process state (no Redis)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const config = testConfig({
      LOCKOUT_THRESHOLD: '2',
      LOCKOUT_BASE_SECONDS: '60',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    });
    app = await buildApp(config, { keys: await newKeySet(), logging: false, state: memoryState(config) });
  });
  afterAll(async () => app.close());

  it('revokes a logged-out session at once', async () => {
    const { tokens } = await registerAndLogin(app);
    expect(
      (await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(tokens.access_token) }))
        .statusCode,
    ).toBe(200);
    await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(tokens.access_token) });
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(tokens.access_token) }),
      401,
      'token_revoked',
    );
  });

  it('locks out after repeated failures', async () => {
    const { user } = await registerAndLogin(app);
    for (let i = 0; i < 2; i++) await login(app, user.login, 'wrong wrong wrong', '192.0.2.99');
    expectProblem(await login(app, user.login, user.password, '192.0.2.99'), 429, 'account_locked');
  });

  it('reports ready without a Redis check', async () => {
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(Object.keys(ready.json().checks)).toEqual(['database']);
  });
});
