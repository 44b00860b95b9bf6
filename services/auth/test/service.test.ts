import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { login, newKeySet, registerAndLogin, startApp, type TestContext, testConfig } from './helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startApp();
});
afterAll(async () => ctx.close());

describe('health', () => {
  it('live and ready answer 200 when Postgres and Redis answer', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await ctx.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ok',
      checks: { database: { status: 'ok' }, redis: { status: 'ok' } },
    });
  });

  it('ready answers 503 naming the dependency that is down', async () => {
    const app = await buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' }), {
      keys: await newKeySet(),
      logging: false,
    });
    try {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.database.status).toBe('fail');
    } finally {
      await app.close();
    }
  });

  it('stays ready, reporting itself degraded, when only Redis is down (decision 0010)', async () => {
    const app = await buildApp(testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), {
      keys: await newKeySet(),
      logging: false,
    });
    try {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'degraded',
        checks: { redis: { status: 'fail' }, database: { status: 'ok' } },
      });
    } finally {
      await app.close();
    }
  });
});

describe('OpenAPI and Swagger UI', () => {
  it('documents every route with a response schema for every status it answers', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/swagger/json' })).json();
    const paths = Object.keys(doc.paths);
    for (const path of [
      '/v1/auth/register',
      '/v1/auth/login',
      '/v1/auth/refresh-token',
      '/v1/auth/logout',
      '/v1/auth/logout-all',
      '/v1/auth/me',
      '/v1/auth/login-history',
      '/v1/auth/sessions',
      '/v1/auth/sessions/{id}',
      '/v1/auth/token',
      '/v1/role/',
      '/v1/role/user',
      '/v1/role/{name}',
      '/.well-known/jwks.json',
    ]) {
      expect(paths).toContain(path);
    }
    // The internal API and the probes are unreachable through the gateway: not in the public document.
    expect(paths.filter((path) => path.startsWith('/internal/') || path.startsWith('/health/'))).toEqual([]);
    for (const [path, operations] of Object.entries(
      doc.paths as Record<string, Record<string, { responses?: object }>>,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    expect(doc.paths['/v1/auth/login'].post.responses).toHaveProperty('401');
    // Every documented operation also documents the problems any route can answer.
    for (const operations of Object.values(
      doc.paths as Record<string, Record<string, { responses: object }>>,
    )) {
      for (const operation of Object.values(operations)) expect(operation.responses).toHaveProperty('500');
    }
  });

  it('serves Swagger UI at /swagger listing the auth document and the configured others', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/swagger/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const init = await ctx.app.inject({ method: 'GET', url: '/swagger/static/swagger-initializer.js' });
    expect(init.body).toContain('/swagger/json');
    expect(init.body).toContain('/api/v1/openapi.json');
  });
});

describe('logs', () => {
  it('carry request ids, echo X-Request-Id, and never contain passwords or tokens', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp(testConfig(), { keys: ctx.keys, logStream: stream });
    try {
      const { user, tokens } = await registerAndLogin(app);
      await app.inject({
        method: 'GET',
        url: '/v1/auth/me',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'x-request-id': 'req-abc-123' },
      });
      const echoed = await app.inject({
        method: 'GET',
        url: '/health/live',
        headers: { 'x-request-id': 'req-abc-124' },
      });
      expect(echoed.headers['x-request-id']).toBe('req-abc-124');
      await app.inject({
        method: 'POST',
        url: `/v1/auth/login?password=${encodeURIComponent(user.password)}`,
      });
      await login(app, user.login, 'wrong password for the log');
      const all = lines.join('');
      expect(all).toContain('req-abc-123');
      expect(all).not.toContain(tokens.access_token);
      expect(all).not.toContain(tokens.refresh_token);
      expect(all).not.toContain(user.password);
      expect(all).not.toContain('wrong password for the log');
      expect(all).toContain('password=%5BREDACTED%5D');
    } finally {
      await app.close();
    }
  });
});
