/**
 * Production billing's admin login behind a TLS terminator: the real nginx
 * gateway (the compose template) receives `X-Forwarded-Proto: https` from the
 * hop named in TRUSTED_PROXY and passes it on, so billing sets its Secure
 * session cookie and the login holds. The same header from anyone else is
 * ignored (a client cannot claim https, nor another address).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, type RawRequest } from '../src/http.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, startServices } from '../src/services.js';

/** The terminator connects from here; clients from elsewhere in 127.0.0.0/8. */
const TERMINATOR = '127.0.0.3';
const CLIENT = '127.0.0.2';
const PUBLIC_HOST = 'tollgate.example';
const ADMIN_PASSWORD = 'a-production-admin-password';

let services: Services;
let nginx: RunningNginx;

beforeAll(async () => {
  const port = await freePort();
  services = await startServices({
    publicUrl: `https://${PUBLIC_HOST}`,
    stripeKeys: { apiKey: 'sk_test_e2e_production', webhookSecret: 'whsec_e2e_production' },
    billingEnv: {
      NODE_ENV: 'production',
      ADMIN_LOGIN: 'operator',
      ADMIN_PASSWORD,
      ADMIN_COOKIE_SECRET: 'an-e2e-production-cookie-secret-0123456789',
    },
  });
  nginx = await startNginx({
    authUpstream: services.auth.address,
    billingUpstream: services.billing.address,
    port,
    trustedProxy: `${TERMINATOR}/32`,
  });
});

afterAll(async () => {
  await nginx?.stop();
  await services?.close();
});

/** A request as the TLS terminator forwards it (public Host, the browser's Origin), sent from `from`. */
const forwarded = (from: string, options: RawRequest) =>
  httpRequest(nginx.url, {
    ...options,
    localAddress: from,
    headers: {
      host: PUBLIC_HOST,
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '198.51.100.7',
      ...options.headers,
    },
  });

const loginForm = (password: string) => ({
  method: 'POST',
  path: '/admin/login',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    origin: `https://${PUBLIC_HOST}`,
  },
  body: new URLSearchParams({ email: 'operator', password }).toString(),
});

describe('production admin login behind a TLS terminator', () => {
  it('logs in: the terminator’s X-Forwarded-Proto reaches billing, which sets its Secure cookie', async () => {
    const login = await forwarded(TERMINATOR, loginForm(ADMIN_PASSWORD));
    expect(login.status, login.text()).toBe(302);
    expect(login.header('location')).toBe('/admin');
    const setCookie = login.header('set-cookie') ?? '';
    expect(setCookie).toMatch(/^tollgate_admin=/);
    expect(setCookie).toMatch(/; Secure/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);

    const cookie = setCookie.split(';')[0]!;
    const dashboard = await forwarded(TERMINATOR, { path: '/admin', headers: { cookie } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text()).toContain('"email":"operator"');

    const seen = services.billing.seen.filter((r) => r.url === '/admin/login').at(-1);
    expect(seen?.headers['x-forwarded-proto']).toBe('https');
    // The terminator's word on the client address is taken too (per-client rate limits and lockouts).
    expect(seen?.ip).toBe('198.51.100.7');
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-For from a hop it does not trust', async () => {
    const login = await forwarded(CLIENT, loginForm(ADMIN_PASSWORD));
    const seen = services.billing.seen.filter((r) => r.url === '/admin/login').at(-1);
    expect(seen?.headers['x-forwarded-proto']).toBe('http');
    expect(seen?.ip).toBe(CLIENT);
    // To billing this is a plain-http page posting from an https origin: refused, no session.
    expect(login.status).toBe(403);
    expect(login.json()).toMatchObject({ code: 'cross_origin_rejected' });
    expect(login.header('set-cookie')).toBeUndefined();
  });
});
