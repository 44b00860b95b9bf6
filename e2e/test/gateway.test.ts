/**
 * The nginx gateway (nginx/templates/default.conf.template) run by the real
 * nginx binary in front of the real auth and billing services, and the same
 * routing expectations against the dev gateway of `npm start`.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { buildGateway } from '@tollgate/dev-stack';
import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, jsonHeaders, type RawRequest, type RawResponse } from '../src/http.js';
import { freePort, type RunningNginx, renderTemplate, startNginx, TEMPLATE_PATH } from '../src/nginx.js';
import { SERVICE_CLIENT_ID, SERVICE_SECRET, type Services, startServices } from '../src/services.js';

const GATEWAY_404_DETAIL = 'no route for this path at the gateway';
const GATEWAY_413_DETAIL = 'the request body exceeds the limit for this path';
const PASSWORD = 'plausible tangerine 42';

const GATEWAY_KINDS = ['nginx', 'dev gateway'] as const;

let services: Services;
let nginx: RunningNginx;
let devGateway: FastifyInstance;
let devGatewayPort: number;

beforeAll(async () => {
  const port = await freePort();
  services = await startServices({ publicUrl: `http://127.0.0.1:${port}` });
  nginx = await startNginx({
    authUpstream: services.auth.address,
    billingUpstream: services.billing.address,
    port,
  });
  devGateway = await buildGateway({
    upstreams: { auth: services.auth.url, billing: services.billing.url },
    logging: false,
  });
  await devGateway.listen({ host: '127.0.0.1', port: 0 });
  const address = devGateway.server.address();
  devGatewayPort = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  await devGateway?.close();
  await nginx?.stop();
  await services?.close();
});

/** nginx, for the checks that are about nginx only (template, gzip, CSP). */
const gateway = (options: RawRequest) => httpRequest(nginx.url, options);

type Gateway = (options: RawRequest) => Promise<RawResponse>;
interface From {
  localAddress?: string;
  headers?: Record<string, string>;
}

function newLogin() {
  return `gw${randomBytes(5).toString('hex')}`;
}

/** Registers a user and logs in, the login sent from `from` (a client address and extra headers). */
async function registerAndLoginAt(gateway: Gateway, from: From = {}) {
  const login = newLogin();
  const registered = await gateway({
    method: 'POST',
    path: '/v1/auth/register',
    headers: jsonHeaders(),
    body: JSON.stringify({ login, password: PASSWORD, email: `${login}@example.com` }),
  });
  expect(registered.status, registered.text()).toBe(201);
  const logged = await gateway({
    method: 'POST',
    path: '/v1/auth/login',
    headers: { ...jsonHeaders(), ...from.headers },
    body: JSON.stringify({ login, password: PASSWORD }),
    ...(from.localAddress ? { localAddress: from.localAddress } : {}),
  });
  expect(logged.status, logged.text()).toBe(200);
  return { login, token: logged.json<{ access_token: string }>().access_token };
}

/** The requests an upstream saw whose path starts with `prefix`. */
function seenBy(upstream: 'auth' | 'billing', prefix: string) {
  return services[upstream].seen.filter((r) => r.url.startsWith(prefix));
}

describe('nginx only: template rendering', () => {
  it('substitutes only the upstream variables and leaves nginx variables alone', async () => {
    const template = await readFile(TEMPLATE_PATH, 'utf8');
    const rendered = renderTemplate(template, {
      AUTH_UPSTREAM: 'auth:3000',
      BILLING_UPSTREAM: 'billing:3000',
    });
    expect(rendered).toMatch(/server auth:3000 [^;]*;/);
    expect(rendered).toMatch(/server billing:3000 [^;]*;/);
    expect(rendered).not.toMatch(/\$\{?(AUTH|BILLING)_UPSTREAM/);
    expect(rendered).toContain('$request_id');
    expect(rendered).toContain('$http_x_request_id');
  });
});

/**
 * The route table, checked against both gateways: nginx (compose) and the dev
 * gateway of `npm start` (@tollgate/dev-stack), in front of the same services.
 */
describe.each(GATEWAY_KINDS)('%s', (kind) => {
  const port = () => (kind === 'nginx' ? nginx.port : devGatewayPort);
  const gateway = (options: RawRequest) => httpRequest(`http://127.0.0.1:${port()}`, options);
  const registerAndLogin = (from: From = {}) => registerAndLoginAt(gateway, from);

  describe('routes', () => {
    it('sends /v1/auth and /v1/role to auth', async () => {
      const login = newLogin();
      const registered = await gateway({
        method: 'POST',
        path: '/v1/auth/register',
        headers: jsonHeaders(),
        body: JSON.stringify({ login, password: PASSWORD, email: `${login}@example.com` }),
      });
      expect(registered.status, registered.text()).toBe(201);
      expect(registered.json()).toMatchObject({ login, email: `${login}@example.com` });

      const logged = await gateway({
        method: 'POST',
        path: '/v1/auth/login',
        headers: jsonHeaders(),
        body: JSON.stringify({ login, password: PASSWORD }),
      });
      expect(logged.status).toBe(200);
      const token = logged.json<{ access_token: string }>().access_token;

      const me = await gateway({ path: '/v1/auth/me', headers: jsonHeaders(token) });
      expect(me.status).toBe(200);
      expect(me.json()).toMatchObject({ login });

      const roles = await gateway({ path: `/v1/role/user?login=${login}`, headers: jsonHeaders(token) });
      expect(roles.status, roles.text()).toBe(200);
      expect(roles.json()).toMatchObject({ login });
      expect(seenBy('auth', '/v1/role/user')).not.toHaveLength(0);
    });

    it('serves the JWKS from auth', async () => {
      const response = await gateway({ path: '/.well-known/jwks.json' });
      expect(response.status).toBe(200);
      const { keys } = response.json<{ keys: { kid: string }[] }>();
      expect(keys.length).toBeGreaterThan(0);
      expect(keys[0]?.kid).toBeTruthy();
    });

    it('serves Swagger UI from auth, listing both services’ documents', async () => {
      const bare = await gateway({ path: '/swagger' });
      expect([200, 301, 302]).toContain(bare.status);
      expect(seenBy('auth', '/swagger')).not.toHaveLength(0);

      const page = await gateway({ path: '/swagger/' });
      expect(page.status).toBe(200);
      expect(page.header('content-type')).toMatch(/text\/html/);
      expect(page.text()).toContain('swagger-ui');

      const initializer = await gateway({ path: '/swagger/static/swagger-initializer.js' });
      expect(initializer.status).toBe(200);
      expect(initializer.text()).toContain('/api/v1/openapi.json');

      const authDoc = await gateway({ path: '/swagger/json' });
      expect(authDoc.status).toBe(200);
      expect(authDoc.json<{ info: { title: string } }>().info.title).toBe('tollgate auth');

      const billingDoc = await gateway({ path: '/api/v1/openapi.json' });
      expect(billingDoc.status).toBe(200);
      expect(billingDoc.json<{ info: { title: string } }>().info.title).toBe('tollgate billing');
    });

    it('sends /api/v1 to billing', async () => {
      const response = await gateway({ path: '/api/v1/products' });
      expect(response.status, response.text()).toBe(200);
      const body = response.json<unknown>();
      expect(JSON.stringify(body)).toContain('subscriber');
      expect(seenBy('billing', '/api/v1/products')).not.toHaveLength(0);
      expect(seenBy('auth', '/api/v1/products')).toHaveLength(0);
    });

    it('sends /admin to billing', async () => {
      const before = seenBy('billing', '/admin').length;
      const response = await gateway({ path: '/admin' });
      // Whatever billing answers there (the panel, a login redirect), it is billing that answers.
      expect(seenBy('billing', '/admin').length).toBe(before + 1);
      expect(seenBy('auth', '/admin')).toHaveLength(0);
      if (response.status === 404) expect(response.json().detail).not.toBe(GATEWAY_404_DETAIL);
    });

    it('serves the home page, its script and the /problems pages from billing', async () => {
      const home = await gateway({ path: '/' });
      expect(home.status).toBe(200);
      expect(home.header('content-type')).toMatch(/^text\/html/);
      expect(home.text()).toContain('<script src="/site/account.js" defer></script>');
      expect(home.text()).toContain('data-price="price_tollgate_basic_monthly"');
      expect(home.header('content-security-policy') ?? '').not.toContain("'unsafe-eval'");
      const script = await gateway({ path: '/site/account.js' });
      expect(script.status).toBe(200);
      expect(script.header('content-type')).toMatch(/^text\/javascript/);
      const index = await gateway({ path: '/problems' });
      expect(index.status).toBe(200);
      expect(index.text()).toContain('href="/problems/route_not_found"');
      const one = await gateway({ path: '/problems/route_not_found' });
      expect(one.status).toBe(200);
      expect(one.text()).toContain('What to do');
      expect(seenBy('billing', '/problems/route_not_found')).not.toHaveLength(0);
      expect(seenBy('auth', '/problems')).toHaveLength(0);
    });

    it('answers unknown paths with a problem+json 404 of its own', async () => {
      for (const path of [
        '/index.html',
        '/favicon.ico',
        '/nope',
        '/problemsx',
        '/sitex',
        '/health/ready',
        '/api/v2/products',
        '/adminx',
        '/swaggerx',
      ]) {
        const response = await gateway({ path });
        expect(response.status, path).toBe(404);
        expect(response.header('content-type')).toBe('application/problem+json');
        expect(response.json()).toMatchObject({
          status: 404,
          code: 'route_not_found',
          detail: GATEWAY_404_DETAIL,
        });
      }
      expect(seenBy('auth', '/nope')).toHaveLength(0);
      expect(seenBy('billing', '/nope')).toHaveLength(0);
    });

    it('never routes /metrics (each service serves it on its own port only), however it is spelled', async () => {
      // The services do answer it directly: the 404 below is the gateway's.
      for (const service of [services.auth, services.billing]) {
        const direct = await httpRequest(service.url, { path: '/metrics' });
        expect(direct.status).toBe(200);
        expect(direct.text()).toContain('http_requests_total');
      }
      const seenBefore = seenBy('auth', '/metrics').length + seenBy('billing', '/metrics').length;
      for (const path of [
        '/metrics',
        '/metrics/',
        '//metrics',
        '/v1/../metrics',
        '/api/v1/%2e%2e/%2e%2e/metrics',
        '/METRICS',
      ]) {
        const response = await gateway({ path });
        expect(response.status, path).toBe(404);
        expect(response.header('content-type')).toBe('application/problem+json');
        expect(response.json()).toMatchObject({ code: 'route_not_found', detail: GATEWAY_404_DETAIL });
      }
      expect(seenBy('auth', '/metrics').length + seenBy('billing', '/metrics').length).toBe(seenBefore);
    });
  });

  describe('/internal', () => {
    it('is refused with 403, even with a valid service token, however the path is spelled', async () => {
      const token = await gateway({
        method: 'POST',
        path: '/v1/auth/token',
        headers: jsonHeaders(),
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: SERVICE_CLIENT_ID,
          client_secret: SERVICE_SECRET,
        }),
      });
      expect(token.status, token.text()).toBe(200);
      const serviceToken = token.json<{ access_token: string }>().access_token;

      // The token works on auth itself: the refusal below is the gateway's.
      const direct = await httpRequest(services.auth.url, {
        path: '/internal/v1/grants?source_prefix=sub_',
        headers: jsonHeaders(serviceToken),
      });
      expect(direct.status, direct.text()).toBe(200);
      const seenBefore = seenBy('auth', '/internal').length;

      const attempts: RawRequest[] = [
        { method: 'GET', path: '/internal/v1/grants?source_prefix=sub_' },
        { method: 'PUT', path: '/internal/v1/users/00000000-0000-0000-0000-000000000000/roles/subscriber' },
        { method: 'GET', path: '/internal' },
        { method: 'GET', path: '/v1/../internal/v1/grants' },
        { method: 'GET', path: '/v1/auth/%2e%2e/%2e%2e/internal/v1/grants' },
        { method: 'GET', path: '//internal/v1/grants' },
      ];
      for (const attempt of attempts) {
        const response = await gateway({
          ...attempt,
          headers: jsonHeaders(serviceToken),
          ...(attempt.method === 'PUT' ? { body: JSON.stringify({ source: 'sub_e2e' }) } : {}),
        });
        expect(response.status, attempt.path).toBe(403);
        expect(response.header('content-type')).toBe('application/problem+json');
        expect(response.json()).toMatchObject({ status: 403, code: 'internal_api_forbidden' });
      }
      expect(seenBy('auth', '/internal')).toHaveLength(seenBefore);
    });
  });

  describe('X-Request-Id', () => {
    it('passes a well-formed id to the service and echoes it once', async () => {
      const id = `e2e-${randomBytes(6).toString('hex')}`;
      // No token: auth answers 401 with a problem body naming the request id it saw.
      const response = await gateway({ path: '/v1/auth/me', headers: { 'x-request-id': id } });
      expect(response.status).toBe(401);
      expect(response.headers['x-request-id']).toBe(id);
      expect(response.json().requestId).toBe(id);
      const seen = seenBy('auth', '/v1/auth/me').find((r) => r.headers['x-request-id'] === id);
      expect(seen).toBeDefined();

      const products = await gateway({ path: '/api/v1/products', headers: { 'x-request-id': `${id}-b` } });
      expect(products.headers['x-request-id']).toBe(`${id}-b`);
      expect(seenBy('billing', '/api/v1/products').some((r) => r.headers['x-request-id'] === `${id}-b`)).toBe(
        true,
      );
    });

    it('replaces a malformed id with its own and gives that one to the service', async () => {
      for (const bad of ['has spaces in it', 'x'.repeat(200), 'quote"injection']) {
        const response = await gateway({ path: '/v1/auth/me', headers: { 'x-request-id': bad } });
        const id = response.header('x-request-id');
        expect(id).toMatch(/^[0-9a-f]{32}$/);
        expect(response.json().requestId).toBe(id);
      }
    });

    it('makes one when none is sent, on the gateway’s own answers too', async () => {
      const proxied = await gateway({ path: '/.well-known/jwks.json' });
      expect(proxied.header('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      const own = await gateway({ path: '/nope' });
      expect(own.header('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(own.json().requestId).toBe(own.header('x-request-id'));
    });
  });

  describe('traceparent (W3C trace context, ADR 0025)', () => {
    it('reaches auth and billing as the client sent it, with tracestate', async () => {
      const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
      const tracestate = 'vendor=opaque';
      await gateway({ path: '/v1/auth/me', headers: { traceparent, tracestate } });
      await gateway({ path: '/api/v1/products', headers: { traceparent, tracestate } });
      for (const [service, route] of [
        ['auth', '/v1/auth/me'],
        ['billing', '/api/v1/products'],
      ] as const) {
        const seen = seenBy(service, route).find((r) => r.headers.traceparent === traceparent);
        expect(seen?.headers.tracestate, service).toBe(tracestate);
      }
    });
  });

  describe('X-Forwarded-*', () => {
    it('gives auth the client address (login history), not one the client made up', async () => {
      // The client connects from 127.0.0.2; nginx connects to auth from 127.0.0.1.
      const { token } = await registerAndLogin({
        localAddress: '127.0.0.2',
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      const history = await gateway({ path: '/v1/auth/login-history', headers: jsonHeaders(token) });
      expect(history.status).toBe(200);
      const entries = history.json<{ data: { ip: string | null }[] }>().data;
      expect(entries[0]?.ip).toBe('127.0.0.2');
    });

    it('sets X-Forwarded-Proto and X-Forwarded-Host', async () => {
      const id = `fwd-${randomBytes(6).toString('hex')}`;
      await gateway({ path: '/.well-known/jwks.json', headers: { 'x-request-id': id } });
      const seen = services.auth.seen.find((r) => r.headers['x-request-id'] === id);
      expect(seen?.headers['x-forwarded-proto']).toBe('http');
      expect(seen?.headers['x-forwarded-host']).toBe(`127.0.0.1:${port()}`);
      expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    });
  });

  describe('body size limits', () => {
    it('refuses auth bodies over 64 KiB at the gateway', async () => {
      const before = seenBy('auth', '/v1/auth/register').length;
      const big = JSON.stringify({ login: 'x', password: 'y'.repeat(70 * 1024), email: 'x@example.com' });
      const response = await gateway({
        method: 'POST',
        path: '/v1/auth/register',
        headers: jsonHeaders(),
        body: big,
      });
      expect(response.status).toBe(413);
      expect(response.header('content-type')).toBe('application/problem+json');
      expect(response.json()).toMatchObject({ code: 'body_too_large', detail: GATEWAY_413_DETAIL });
      expect(seenBy('auth', '/v1/auth/register')).toHaveLength(before);

      // Under the limit it reaches auth (which refuses the silly password itself).
      const under = JSON.stringify({ login: 'x', password: 'y'.repeat(60 * 1024), email: 'x@example.com' });
      const passed = await gateway({
        method: 'POST',
        path: '/v1/auth/register',
        headers: jsonHeaders(),
        body: under,
      });
      expect(passed.status).not.toBe(413);
      expect(seenBy('auth', '/v1/auth/register')).toHaveLength(before + 1);
    });

    it('lets billing take up to 1 MiB and refuses more', async () => {
      const response = await gateway({
        method: 'POST',
        path: '/api/v1/webhook',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        body: 'x'.repeat(1100 * 1024),
      });
      expect(response.status).toBe(413);
      expect(response.json()).toMatchObject({ code: 'body_too_large', detail: GATEWAY_413_DETAIL });
    });
  });

  describe('Stripe webhooks', () => {
    const stripe = new Stripe('sk_test_unused');

    function signedEvent(padding: number) {
      const id = `evt_e2e_${randomBytes(8).toString('hex')}`;
      // Odd spacing and a large field: the signature only holds if every byte arrives as sent.
      const payload = `{\n    "id": "${id}",  "object": "event", "type": "customer.updated",\n\t"api_version": "2026-10-28.endive", "created": ${Math.floor(Date.now() / 1000)}, "livemode": false, "pending_webhooks": 1,\n  "request": {"id": null, "idempotency_key": null},\n  "data": {"object": {"id": "cus_e2e", "object": "customer", "description": "${'é'.repeat(padding)}"}}\n}\n`;
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: services.webhookSecret });
      return { id, payload, signature };
    }

    it('reach billing byte for byte (a 300 KiB event verifies)', async () => {
      const event = signedEvent(150 * 1024);
      const send = () =>
        gateway({
          method: 'POST',
          path: '/api/v1/webhook',
          headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': event.signature },
          body: event.payload,
        });
      const first = await send();
      expect(first.status, first.text()).toBe(200);
      expect(first.json()).toEqual({ received: true, duplicate: false });
      const again = await send();
      expect(again.json()).toEqual({ received: true, duplicate: true });
    });

    it('a tampered body is refused by billing', async () => {
      const event = signedEvent(10);
      const response = await gateway({
        method: 'POST',
        path: '/api/v1/webhook',
        headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
        body: event.payload.replace('customer.updated', 'customer.deleted'),
      });
      expect(response.status).toBe(400);
    });
  });

  describe('security headers', () => {
    it('are set on proxied answers and on the gateway’s own', async () => {
      for (const path of [
        '/.well-known/jwks.json',
        '/swagger/',
        '/api/v1/products',
        '/nope',
        '/internal/v1/x',
      ]) {
        const response = await gateway({ path });
        expect(response.header('x-content-type-options'), path).toBe('nosniff');
        expect(response.header('referrer-policy'), path).toBe('no-referrer');
        expect(response.header('x-frame-options'), path).toBe('DENY');
        expect(response.header('strict-transport-security'), path).toBeUndefined();
        expect(response.header('x-powered-by'), path).toBeUndefined();
      }
    });
  });
});

describe('nginx only: compression and headers', () => {
  it('gzips Swagger UI assets and JSON when the client accepts it', async () => {
    const asset = await gateway({
      path: '/swagger/static/swagger-ui-bundle.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(asset.status).toBe(200);
    expect(asset.header('content-encoding')).toBe('gzip');
    expect(asset.header('vary')).toMatch(/accept-encoding/i);

    const css = await gateway({
      path: '/swagger/static/swagger-ui.css',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(css.header('content-encoding')).toBe('gzip');

    const json = await gateway({ path: '/swagger/json', headers: { 'accept-encoding': 'gzip, br' } });
    expect(json.header('content-encoding')).toBe('gzip');

    const plain = await gateway({ path: '/swagger/static/swagger-ui-bundle.js' });
    expect(plain.header('content-encoding')).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(asset.body.length * 2);
  });

  it('sets its CSP and Server header on proxied answers and on its own', async () => {
    for (const path of [
      '/.well-known/jwks.json',
      '/swagger/',
      '/api/v1/products',
      '/nope',
      '/internal/v1/x',
    ]) {
      const response = await gateway({ path });
      expect(response.header('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(response.header('server'), path).toBe('nginx');
    }
    const swagger = await gateway({ path: '/swagger/' });
    expect(swagger.header('content-security-policy')).toContain("script-src 'self'");
    const api = await gateway({ path: '/api/v1/products' });
    expect(api.header('content-security-policy')).toContain("default-src 'none'");
  });
});
