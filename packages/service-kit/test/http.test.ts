import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  formBodyParser,
  healthRoutes,
  ProblemError,
  problemHandler,
  redactUrl,
  requestHygiene,
  serverOptions,
} from '../src/index.js';

describe('redactUrl', () => {
  it('hides the values of credential parameters and keeps the rest', () => {
    expect(redactUrl('/v1/auth/login?login=foo&password=bar')).toBe(
      '/v1/auth/login?login=foo&password=%5BREDACTED%5D',
    );
    expect(redactUrl('/x?jwt=a.b.c&page=2')).toBe('/x?jwt=%5BREDACTED%5D&page=2');
    expect(redactUrl('/x?page=2')).toBe('/x?page=2');
    expect(redactUrl('/x')).toBe('/x');
  });

  it("hides one-time secrets a request may carry (OAuth's code), without refusing them", async () => {
    expect(redactUrl('/v1/auth/oauth/google/callback?code=abc&state=s1&iss=x')).toBe(
      '/v1/auth/oauth/google/callback?code=%5BREDACTED%5D&state=s1&iss=x',
    );
    const instance = await app();
    instance.get('/callback', async () => ({ ok: true }));
    expect((await instance.inject({ method: 'GET', url: '/callback?code=abc' })).statusCode).toBe(200);
    await instance.close();
  });
});

async function app() {
  const instance = Fastify(serverOptions({ logLevel: 'silent', trustProxy: false, logging: false }));
  await instance.register(problemHandler);
  await instance.register(requestHygiene);
  await instance.register(healthRoutes, {
    checks: { ok: async () => {}, slow: () => new Promise((r) => setTimeout(r, 200)) },
    timeoutMs: 50,
  });
  instance.get('/boom', async () => {
    throw new Error('secret internals');
  });
  instance.get('/teapot', async () => {
    throw new ProblemError(418, 'teapot', 'I am a teapot', 'short and stout');
  });
  return instance;
}

describe('problem handler', () => {
  it('renders ProblemErrors as problem+json with the request id', async () => {
    const response = await (await app()).inject({
      method: 'GET',
      url: '/teapot',
      headers: { 'x-request-id': 'r-1' },
    });
    expect(response.statusCode).toBe(418);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      code: 'teapot',
      status: 418,
      detail: 'short and stout',
      requestId: 'r-1',
    });
  });

  it('hides unknown errors behind a generic 500', async () => {
    const response = await (await app()).inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json().code).toBe('internal_error');
    expect(response.body).not.toContain('secret internals');
  });

  it('answers unknown routes with 404 route_not_found', async () => {
    const response = await (await app()).inject({ method: 'GET', url: '/nope' });
    expect(response.json()).toMatchObject({ status: 404, code: 'route_not_found' });
  });

  it('replaces a malformed X-Request-Id instead of echoing it', async () => {
    const response = await (await app()).inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'bad id\n' },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('health', () => {
  it('fails readiness when a check times out', async () => {
    const response = await (await app()).inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json().checks).toMatchObject({ ok: { status: 'ok' }, slow: { status: 'fail' } });
  });

  it('stays ready, as degraded, when only a check the service can work without fails', async () => {
    const instance = Fastify(serverOptions({ logLevel: 'silent', trustProxy: false, logging: false }));
    await instance.register(healthRoutes, {
      checks: { database: async () => {} },
      degradedChecks: {
        redis: async () => {
          throw new Error('connection refused');
        },
      },
    });
    const response = await instance.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'degraded',
      checks: { database: { status: 'ok' }, redis: { status: 'fail', error: 'connection refused' } },
    });
  });
});

describe('serverOptions logging', () => {
  it('names the service on every JSON log line', async () => {
    const lines: string[] = [];
    const app = Fastify(
      serverOptions({
        service: 'billing',
        logLevel: 'info',
        trustProxy: false,
        logStream: { write: (line: string) => lines.push(line) },
      }),
    );
    app.get('/x', async () => ({ ok: true }));
    await app.inject({ method: 'GET', url: '/x' });
    await app.close();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ name: 'billing' });
  });
});

describe('formBodyParser', () => {
  async function appWithForm() {
    const { default: formbody } = await import('@fastify/formbody');
    const app = Fastify();
    await app.register(problemHandler);
    await app.register(formbody, { parser: formBodyParser });
    app.post(
      '/login',
      {
        schema: {
          body: {
            type: 'object',
            required: ['login'],
            properties: { login: { type: 'string' } },
          },
        },
      },
      async (request) => request.body,
    );
    return app;
  }

  it('answers JSON sent as a form (curl -d without a content type) with 415 naming the header', async () => {
    const app = await appWithForm();
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '{"login":"foo","password":"bar"}',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({
      code: 'unsupported_media_type',
      type: '/problems/unsupported_media_type',
    });
    expect(response.json().detail).toContain('Content-Type: application/json');
    await app.close();
  });

  it('still parses real forms', async () => {
    const app = await appWithForm();
    const response = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'login=foo',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ login: 'foo' });
    await app.close();
  });
});
