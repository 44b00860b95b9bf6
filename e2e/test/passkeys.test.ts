/**
 * Passkeys in Chromium through nginx, with the browser's virtual
 * authenticator (DevTools protocol WebAuthn domain: CTAP2, built in, resident
 * keys, user verification that succeeds): sign up on the home page, "Add a
 * passkey", log out, "Sign in with a passkey" (usernameless), then a
 * password login that asks for the passkey as its second step.
 *
 * The page is opened at http://localhost:<port>: WebAuthn needs a secure
 * context and a domain for its RP ID, and localhost is both (127.0.0.1 is
 * not a valid RP ID).
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type WatchedContext, watchedContext } from '../src/browser.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, startServices } from '../src/services.js';

let services: Services;
let nginx: RunningNginx;
let browser: Browser;
let watched: WatchedContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
let gatewayUrl: string;
const requested: string[] = [];

const login = `pk${Date.now().toString(36)}`;
const password = 'passkey page password 7';

beforeAll(async () => {
  const port = await freePort();
  gatewayUrl = `http://localhost:${port}`;
  [services, browser] = await Promise.all([
    startServices({
      publicUrl: gatewayUrl,
      authEnv: { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: gatewayUrl },
    }),
    launchChromium(),
  ]);
  nginx = await startNginx({
    authUpstream: services.auth.address,
    billingUpstream: services.billing.address,
    port,
  });
  watched = await watchedContext(browser);
  watched.context.on('request', (request) => requested.push(request.url()));
  page = await watched.newPage();
  cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  }));
  await page.goto(`${gatewayUrl}/`);
}, 60_000);

afterAll(async () => {
  await watched?.context.close().catch(() => {});
  await browser?.close();
  await nginx?.stop();
  await services?.close();
});

async function signCount(): Promise<number> {
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  return credentials[0]!.signCount;
}

async function logOut() {
  await page.click('#logout');
  await page.waitForSelector('#signed-out:not([hidden])');
}

it('adds a passkey on the account page', { timeout: 30_000 }, async () => {
  await page.fill('#signup-form input[name=login]', login);
  await page.fill('#signup-form input[name=email]', `${login}@example.com`);
  await page.fill('#signup-form input[name=password]', password);
  await page.click('#signup-form button[type=submit]');
  await page.waitForSelector('#signed-in:not([hidden])');

  await page.click('text=Add a passkey');
  await page.waitForSelector('#passkeys .passkey-name');
  expect(await page.textContent('#passkeys')).toContain('Passkey 1');
  expect(await page.textContent('#account-note')).toContain('added');
  // The authenticator keeps a discoverable credential for this site, naming the user by login.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toMatchObject([{ isResidentCredential: true, rpId: 'localhost', userName: login }]);
});

it('signs in with the passkey alone, and login history says so', { timeout: 30_000 }, async () => {
  await logOut();
  const before = await signCount();
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/auth/login/passkey'));
  await page.click('text=Sign in with a passkey');
  await page.waitForSelector('#signed-in:not([hidden])');
  expect(await page.textContent('#me-login')).toBe(login);
  expect(await signCount()).toBeGreaterThan(before);

  // The token pair the page received (read off the network here; the page keeps it in memory).
  const pair = (await (await answered).json()) as { access_token: string };
  const history = await fetch(`${gatewayUrl}/v1/auth/login-history`, {
    headers: { authorization: `Bearer ${pair.access_token}` },
  });
  expect(history.status).toBe(200);
  const body = (await history.json()) as { data: { success: boolean; provider?: string | null }[] };
  expect(body.data[0]).toMatchObject({ success: true, provider: 'passkey' });
});

it('asks for the passkey after the password, as the second factor', { timeout: 30_000 }, async () => {
  await logOut();
  const before = await signCount();
  await page.fill('#login-form input[name=login]', login);
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#signed-in:not([hidden])');
  expect(await page.textContent('#me-login')).toBe(login);
  expect(await signCount()).toBeGreaterThan(before);
  // No token or ticket in any URL, and the library came from this gateway, not a CDN.
  for (const url of requested) expect(url).not.toMatch(/access_token|refresh_token|ticket|eyJ/);
  expect(requested.some((url) => url === `${gatewayUrl}/site/webauthn.js`)).toBe(true);
  expect(requested.every((url) => url.startsWith(gatewayUrl) || url.startsWith('data:'))).toBe(true);
  expect(watched.violations).toEqual([]);
});
