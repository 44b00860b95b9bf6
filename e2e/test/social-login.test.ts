/**
 * "Sign in with Google" in Chromium through nginx, with a real OpenID
 * provider on this machine in place of Google: click the link on the home
 * page, log in at the provider, land back logged in. No token in any URL.
 */
import { type LocalOidcProvider, startOidcProvider } from '@tollgate/auth/oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type WatchedContext, watchedContext } from '../src/browser.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, startServices } from '../src/services.js';

let provider: LocalOidcProvider;
let services: Services;
let nginx: RunningNginx;
let browser: Browser;
let watched: WatchedContext;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({ redirectUris: [`${gatewayUrl}/v1/auth/oauth/google/callback`] });
  [services, browser] = await Promise.all([
    startServices({
      publicUrl: gatewayUrl,
      authEnv: {
        OIDC_PROVIDERS: JSON.stringify([
          {
            name: 'google',
            issuer: provider.issuer,
            client_id: provider.clientId,
            client_secret: provider.clientSecret,
          },
        ]),
        OIDC_PUBLIC_BASE_URL: gatewayUrl,
        OIDC_FRONTEND_URLS: `${gatewayUrl}/`,
      },
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
  await page.goto(`${gatewayUrl}/`);
});

afterAll(async () => {
  await watched?.context.close().catch(() => {});
  await browser?.close();
  await nginx?.stop();
  await services?.close();
  await provider?.close();
});

it('signs in with Google: click, log in at the provider, land logged in', { timeout: 30_000 }, async () => {
  const user = provider.addUser({ email: 'chromium-user@example.com', password: 'provider secret' });
  await page.click('text=Sign in with Google');
  await page.waitForURL(/\/interaction\//);
  await page.fill('input[name=login]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#signed-in:not([hidden])');
  expect(await page.textContent('#me-email')).toContain(user.email);
  // The one-time code is gone from the address bar, and no token was ever in a URL.
  expect(page.url()).not.toContain('code=');
  for (const url of requested) expect(url).not.toMatch(/access_token|refresh_token|eyJ/);
});
