/**
 * Account mail in Chromium, through nginx: sign up on the home page, open
 * the verification link from the mail (real SMTP), ask for a password reset
 * and set a new password from its link. The token travels in the link's
 * fragment: it must never reach a server in a URL.
 */
import { randomBytes } from 'node:crypto';
import { linkIn, type MailCatcher, startMailCatcher } from '@tollgate/test-kit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type WatchedContext, watchedContext } from '../src/browser.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, startServices } from '../src/services.js';

const PASSWORD = 'plausible tangerine 42';
const NEW_PASSWORD = 'a fresh passphrase 2027';

let services: Services;
let nginx: RunningNginx;
let browser: Browser;
let mail: MailCatcher;
let watched: WatchedContext;
let page: Page;
let gatewayUrl: string;
const login = `mailed${randomBytes(4).toString('hex')}`;
const email = `${login}@example.com`;
/** Every URL the browser requested, and every request line auth saw. */
const requested: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  mail = await startMailCatcher();
  [services, browser] = await Promise.all([
    startServices({ publicUrl: gatewayUrl, authEnv: { SMTP_URL: mail.smtpUrl, PUBLIC_URL: gatewayUrl } }),
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
});

afterAll(async () => {
  await watched?.context.close().catch(() => {});
  await browser?.close();
  await nginx?.stop();
  await services?.close();
  await mail?.close();
});

describe('account mail in the browser', () => {
  it('verifies the address from the link in the sign-up mail', async () => {
    await page.goto(`${gatewayUrl}/`);
    await page.fill('#signup-form input[name=login]', login);
    await page.fill('#signup-form input[name=email]', email);
    await page.fill('#signup-form input[name=password]', PASSWORD);
    await page.click('#signup-form button[type=submit]');
    await page.waitForSelector('#signed-in:not([hidden])');
    expect(await page.textContent('#account-note')).toContain(email);

    const { url, token } = linkIn(await mail.waitFor(email, /confirm your email/i), 'verify-email');
    expect(url.origin).toBe(gatewayUrl);
    // Opened from the mail: the page in a new tab.
    const linked = await watched.newPage();
    await linked.goto(url.href);
    await linked.waitForFunction(() =>
      document.getElementById('account-note')?.textContent?.includes('confirmed'),
    );
    expect(await linked.textContent('#account-note')).toContain(`${email} confirmed`);
    // The fragment is gone from the address bar once used.
    expect(linked.url()).toBe(`${gatewayUrl}/`);
    await linked.close();
    expect(requested.some((u) => u.includes(token))).toBe(false);
    expect(services.auth.seen.some((r) => r.url.includes(token))).toBe(false);

    const me = await services.auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login, password: PASSWORD },
    });
    const claims = JSON.parse(
      Buffer.from(
        (me.json() as { access_token: string }).access_token.split('.')[1]!,
        'base64url',
      ).toString(),
    );
    expect(claims.email_verified).toBe(true);
  });

  it('resets a forgotten password from the link in the mail', async () => {
    const fresh = await watched.newPage();
    await fresh.goto(`${gatewayUrl}/`);
    await fresh.click('#forgot-open');
    await fresh.fill('#forgot-form input[name=login_or_email]', login);
    await fresh.click('#forgot-form button[type=submit]');
    await fresh.waitForSelector('#account-note:not([hidden])');
    expect(await fresh.textContent('#account-note')).toContain('reset link is on its way');

    const { url, token } = linkIn(await mail.waitFor(email, /reset your password/i), 'reset-password');
    // The same tab this time: only the fragment changes.
    await fresh.goto(url.href);
    await fresh.waitForSelector('#reset-form:not([hidden])');
    expect(fresh.url()).toBe(`${gatewayUrl}/`);
    await fresh.fill('#reset-form input[name=password]', NEW_PASSWORD);
    await fresh.click('#reset-form button[type=submit]');
    await fresh.waitForSelector('#reset-form[hidden]');
    expect(await fresh.textContent('#account-note')).toContain('Password changed');

    await fresh.fill('#login-form input[name=login]', login);
    await fresh.fill('#login-form input[name=password]', NEW_PASSWORD);
    await fresh.click('#login-form button[type=submit]');
    await fresh.waitForSelector('#signed-in:not([hidden])');
    expect(requested.some((u) => u.includes(token))).toBe(false);
    expect(services.auth.seen.some((r) => r.url.includes(token))).toBe(false);
    expect(watched.violations).toEqual([]);
  });
});
