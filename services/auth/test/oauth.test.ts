/**
 * Social login against a real OpenID provider on this machine (oidc-provider):
 * the browser's part is played by a cookie jar following redirects.
 */
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createPrismaClient, type Db } from '../src/db/prisma.js';
import { bearer, newKeySet, registerAndLogin, type Tokens, testConfig } from './helpers.js';
import { type LocalOidcProvider, type ProviderUser, startOidcProvider } from './oidc-provider.js';

const BASE = 'http://localhost:8080';
const FRONTEND = 'http://localhost:8080/account';
const CALLBACK = `${BASE}/v1/auth/oauth/google/callback`;

let provider: LocalOidcProvider;
let app: FastifyInstance;
let db: Db;

function oidcEnv(issuer: string, clientSecret: string) {
  return {
    OIDC_PROVIDERS: JSON.stringify([
      { name: 'google', issuer, client_id: 'tollgate', client_secret: clientSecret },
    ]),
    OIDC_PUBLIC_BASE_URL: BASE,
    OIDC_FRONTEND_URLS: `${FRONTEND},${BASE}/`,
  };
}

async function startAuth(env: Record<string, string>, oidcFirstRetryMs?: number) {
  const instance = await buildApp(testConfig(env), {
    keys: await newKeySet(),
    logging: false,
    oidcFirstRetryMs,
  });
  await instance.ready();
  return instance;
}

/** Logs in at the provider as `user`, starting from its authorization URL; returns the callback URL it sends the browser to. */
async function loginAtProvider(authorizationUrl: string, user: Pick<ProviderUser, 'email' | 'password'>) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let url = authorizationUrl;
  let init: RequestInit = {};
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers ?? {}), cookie: cookieHeader() },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = (pair as string).indexOf('=');
      jar.set((pair as string).slice(0, at), (pair as string).slice(at + 1));
    }
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url).href;
      if (next.startsWith(CALLBACK)) return next;
      url = next;
      init = {};
      continue;
    }
    const html = await response.text();
    const action = /action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`provider page without a form: ${html.slice(0, 200)}`);
    url = new URL(action, url).href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: user.email, password: user.password }).toString(),
    };
  }
  throw new Error('the provider did not send the browser back');
}

function flowCookie(setCookie: string | string[] | undefined): string {
  const line = [setCookie ?? []].flat().find((c) => c.startsWith('tollgate_oauth='));
  if (!line) throw new Error('no flow cookie');
  return (line.split(';')[0] as string).slice('tollgate_oauth='.length);
}

async function startLogin(redirectUri?: string) {
  const query = redirectUri ? `?redirect_uri=${encodeURIComponent(redirectUri)}` : '';
  const response = await app.inject({ method: 'GET', url: `/v1/auth/oauth/google/login${query}` });
  expect(response.statusCode).toBe(302);
  return {
    authorizationUrl: response.headers.location as string,
    binding: flowCookie(response.headers['set-cookie']),
  };
}

function callback(callbackUrl: string, binding?: string) {
  return app.inject({
    method: 'GET',
    url: callbackUrl.slice(BASE.length),
    headers: binding ? { cookie: `tollgate_oauth=${binding}` } : {},
  });
}

/** The whole login: provider, callback, exchange. */
async function socialLogin(user: ProviderUser) {
  const started = await startLogin();
  const back = await callback(await loginAtProvider(started.authorizationUrl, user), started.binding);
  expect(back.statusCode, back.body).toBe(302);
  const target = new URL(back.headers.location as string);
  const code = target.searchParams.get('code') as string;
  const exchanged = await app.inject({ method: 'POST', url: '/v1/auth/oauth/exchange', payload: { code } });
  return { target, code, exchanged };
}

beforeAll(async () => {
  provider = await startOidcProvider({ redirectUris: [CALLBACK] });
  app = await startAuth(oidcEnv(provider.issuer, provider.clientSecret));
  db = createPrismaClient(testConfig().databaseUrl);
  // Discovery runs in the background: wait for it.
  for (let i = 0; i < 100; i++) {
    const list = (await app.inject({ method: 'GET', url: '/v1/auth/oauth/providers' })).json() as {
      available: boolean;
    }[];
    if (list[0]?.available) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  await app?.close();
  await provider?.close();
  await db?.$disconnect();
});

describe('social login', () => {
  it('creates an account on first login, returns to the front end with a one-time code, and exchanges it once', async () => {
    const user = provider.addUser({ email: `new-${Date.now()}@example.com` });
    const { target, exchanged, code } = await socialLogin(user);
    expect(`${target.origin}${target.pathname}`).toBe(FRONTEND);
    expect(target.href).not.toMatch(/access_token|refresh_token/);
    expect(exchanged.statusCode, exchanged.body).toBe(200);
    const tokens = exchanged.json() as Tokens;
    const me = await app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(tokens.access_token) });
    expect(me.json()).toMatchObject({ email: user.email });

    const replay = await app.inject({ method: 'POST', url: '/v1/auth/oauth/exchange', payload: { code } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('oauth_code_invalid');

    const history = await app.inject({
      method: 'GET',
      url: '/v1/auth/login-history',
      headers: bearer(tokens.access_token),
    });
    expect(history.json().data[0]).toMatchObject({ success: true, provider: 'google' });

    // The same identity logs in to the same account again.
    const again = await socialLogin(user);
    const meAgain = await app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: bearer((again.exchanged.json() as Tokens).access_token),
    });
    expect(meAgain.json().id).toBe(me.json().id);
  });

  it('links to the account with the same email when both the provider and the account have it verified', async () => {
    const { user: account } = await registerAndLogin(app);
    // As if the owner had followed the verification link auth mailed at registration.
    await db.user.update({ where: { id: account.id }, data: { emailVerifiedAt: new Date() } });
    const identity = provider.addUser({ email: account.email, emailVerified: true });
    const { exchanged } = await socialLogin(identity);
    const me = await app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: bearer((exchanged.json() as Tokens).access_token),
    });
    expect(me.json().id).toBe(account.id);
  });

  it('asks an account with a second factor for it: the provider login alone starts no session', async () => {
    const { user: account, tokens } = await registerAndLogin(app);
    await db.user.update({ where: { id: account.id }, data: { emailVerifiedAt: new Date() } });
    const post = (url: string, payload: object, token?: string) =>
      app.inject({ method: 'POST', url, payload, ...(token ? { headers: bearer(token) } : {}) });
    const { secret } = (await post('/v1/auth/mfa/totp/setup', {}, tokens.access_token)).json() as {
      secret: string;
    };
    const code = () => generate({ secret, epoch: Math.floor(Date.now() / 1000) });
    expect(
      (await post('/v1/auth/mfa/totp/confirm', { code: await code() }, tokens.access_token)).statusCode,
    ).toBe(200);

    const identity = provider.addUser({ email: account.email, emailVerified: true });
    const { exchanged } = await socialLogin(identity);
    expect(exchanged.statusCode, exchanged.body).toBe(401);
    const problem = exchanged.json() as {
      code: string;
      detail: string;
      mfa_ticket: string;
      methods: string[];
    };
    expect(problem).toMatchObject({ code: 'mfa_required', methods: ['totp'] });
    expect(problem.detail).toContain('google');
    expect(exchanged.body).not.toMatch(/access_token|refresh_token/);

    const wrong = await post('/v1/auth/login/mfa', { ticket: problem.mfa_ticket, code: '000000' });
    expect(wrong.json().code).toBe('mfa_code_invalid');
    const through = await post('/v1/auth/login/mfa', {
      ticket: problem.mfa_ticket,
      code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }),
    });
    expect(through.statusCode, through.body).toBe(200);
    const me = await app.inject({
      method: 'GET',
      url: '/v1/auth/me',
      headers: bearer((through.json() as Tokens).access_token),
    });
    expect(me.json().id).toBe(account.id);
  });

  it('does not link to an account whose own email was never verified', async () => {
    const { user: account } = await registerAndLogin(app);
    const identity = provider.addUser({ email: account.email, emailVerified: true });
    const started = await startLogin();
    const back = await callback(await loginAtProvider(started.authorizationUrl, identity), started.binding);
    expect(back.statusCode).toBe(409);
    expect(await db.userIdentity.count({ where: { userId: account.id } })).toBe(0);
  });

  it('does not link on an unverified email', async () => {
    const { user: account } = await registerAndLogin(app);
    const identity = provider.addUser({ email: account.email, emailVerified: false });
    const started = await startLogin();
    const back = await callback(await loginAtProvider(started.authorizationUrl, identity), started.binding);
    expect(back.statusCode).toBe(409);
    expect(back.json().code).toBe('oauth_email_unverified');
    expect(await db.userIdentity.count({ where: { userId: account.id } })).toBe(0);
  });

  it('refuses a callback without the cookie of the browser that started it, or with an unknown state', async () => {
    const user = provider.addUser({ email: `lured-${Date.now()}@example.com` });
    const started = await startLogin();
    const callbackUrl = await loginAtProvider(started.authorizationUrl, user);
    const lured = await callback(callbackUrl, 'someone-elses-cookie');
    expect(lured.statusCode).toBe(400);
    expect(lured.json().code).toBe('oauth_state_invalid');

    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'not-a-state-we-issued');
    const unknown = await callback(forged.href, started.binding);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('oauth_state_invalid');
  });

  it('refuses an ID token whose nonce is not the flow’s', async () => {
    const user = provider.addUser({ email: `nonce-${Date.now()}@example.com` });
    const started = await startLogin();
    const callbackUrl = await loginAtProvider(started.authorizationUrl, user);
    const state = new URL(callbackUrl).searchParams.get('state') as string;
    const { createHash } = await import('node:crypto');
    await db.oAuthFlow.update({
      where: { stateHash: createHash('sha256').update(state).digest('base64url') },
      data: { nonce: 'a-different-nonce' },
    });
    const back = await callback(callbackUrl, started.binding);
    expect(back.statusCode).toBe(400);
    expect(back.json().code).toBe('oauth_callback_failed');
  });

  it('never redirects to a front end outside the allow-list', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/auth/oauth/google/login?redirect_uri=${encodeURIComponent('https://evil.example/')}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('oauth_redirect_not_allowed');
  });

  it('links explicitly, lists, and refuses to unlink the last way to log in', async () => {
    const { tokens } = await registerAndLogin(app);
    const identity = provider.addUser({ email: `other-${Date.now()}@example.com`, emailVerified: false });
    const start = await app.inject({
      method: 'POST',
      url: '/v1/auth/me/identities/google',
      headers: bearer(tokens.access_token),
      payload: {},
    });
    expect(start.statusCode, start.body).toBe(200);
    const back = await callback(
      await loginAtProvider(start.json().authorization_url, identity),
      flowCookie(start.headers['set-cookie']),
    );
    expect(back.statusCode, back.body).toBe(302);
    expect(new URL(back.headers.location as string).searchParams.get('linked')).toBe('google');
    const list = await app.inject({
      method: 'GET',
      url: '/v1/auth/me/identities',
      headers: bearer(tokens.access_token),
    });
    expect(list.json()).toMatchObject([{ provider: 'google', subject: identity.sub }]);

    // The account has a password: unlinking leaves a way in.
    const unlink = await app.inject({
      method: 'DELETE',
      url: '/v1/auth/me/identities/google',
      headers: bearer(tokens.access_token),
    });
    expect(unlink.statusCode).toBe(204);

    // An account made from the identity has nothing else.
    const fresh = provider.addUser({ email: `only-${Date.now()}@example.com` });
    const { exchanged } = await socialLogin(fresh);
    const only = await app.inject({
      method: 'DELETE',
      url: '/v1/auth/me/identities/google',
      headers: bearer((exchanged.json() as Tokens).access_token),
    });
    expect(only.statusCode).toBe(409);
    expect(only.json().code).toBe('last_login_method');
  });
});

describe('a provider that cannot be discovered at start', () => {
  it('is unavailable (503) while auth runs, and usable once discovery succeeds', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const issuer = `http://127.0.0.1:${port}`;
    const late = await startAuth(oidcEnv(issuer, 'late-secret'), 100);
    let lateProvider: LocalOidcProvider | undefined;
    try {
      const before = await late.inject({ method: 'GET', url: '/v1/auth/oauth/google/login' });
      expect(before.statusCode).toBe(503);
      expect(before.json().code).toBe('oauth_provider_unavailable');
      expect((await late.inject({ method: 'GET', url: '/health/ready' })).statusCode).not.toBe(503);

      lateProvider = await startOidcProvider({ redirectUris: [CALLBACK], port, clientSecret: 'late-secret' });
      let status = 0;
      for (let i = 0; i < 100 && status !== 302; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await late.inject({ method: 'GET', url: '/v1/auth/oauth/google/login' })).statusCode;
      }
      expect(status).toBe(302);
    } finally {
      await late.close();
      await lateProvider?.close();
    }
  });
});
