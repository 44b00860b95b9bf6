/**
 * Issue 12's browser path, in Chromium through nginx: a new user types a
 * promotion code on the home page, subscribes to the plan with a trial
 * (Premium yearly, 14 days), pays on the hosted page, and is back on the
 * account page trialing with the discount; then picks the cheaper Basic
 * plan, which waits for the period end: "Changes to Basic on <date>".
 * Screenshots go to e2e/artifacts/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot, type WatchedContext, watchedContext } from '../src/browser.js';
import { httpRequest, jsonHeaders } from '../src/http.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, startServices } from '../src/services.js';

const PASSWORD = 'plausible tangerine 42';
const SLOW = { timeout: 20_000 };

let services: Services;
let nginx: RunningNginx;
let browser: Browser;
let watched: WatchedContext;
let page: Page;
const login = `trial${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  [services, browser] = await Promise.all([
    startServices({ publicUrl: gatewayUrl, webhookUrl: `${gatewayUrl}/api/v1/webhook` }),
    launchChromium(),
  ]);
  nginx = await startNginx({
    authUpstream: services.auth.address,
    billingUpstream: services.billing.address,
    port,
  });
  watched = await watchedContext(browser);
  page = await watched.newPage();
});

afterAll(async () => {
  await watched?.context.close().catch(() => {});
  await browser?.close();
  await services?.emulator.waitForWebhooks();
  await nginx?.stop();
  await services?.close();
});

const text = async (selector: string) => (await page.textContent(selector))?.replace(/\s+/g, ' ') ?? '';

const cells = (selector: string) => page.locator(`${selector} td`).allTextContents();

async function logInOnHome() {
  await page.fill('#login-form input[name=login]', login);
  await page.fill('#login-form input[name=password]', PASSWORD);
  await page.click('#login-form button[type=submit]');
}

describe('a trial with a promotion code, then a downgrade, in Chromium', () => {
  it('the home page offers the trial, the add-on and a promotion code field', async () => {
    await page.goto(`${nginx.url}/`);
    const premium = await text('.plan[data-product="prod_tollgate_premium"]');
    expect(premium).toContain('14-day free trial');
    expect(await text('.plan[data-product="prod_tollgate_downloads"]')).toContain('add-on');
    expect(await page.isVisible('#promotion-code')).toBe(true);
  });

  it('signs up, subscribes to Premium yearly with WELCOME20: the hosted page shows the trial and the discount', async () => {
    await page.fill('#signup-form input[name=login]', login);
    await page.fill('#signup-form input[name=email]', `${login}@example.com`);
    await page.fill('#signup-form input[name=password]', PASSWORD);
    await page.click('#signup-form button[type=submit]');
    await page.locator('#signed-in').waitFor();
    await page.fill('#promotion-code', 'WELCOME20');
    await page.click('button[data-price="price_tollgate_premium_yearly"]');
    await page.waitForURL(/\/c\/pay\/cs_/);
    expect(await cells('#trial')).toEqual(['Free trial', '14 days']);
    expect(await cells('#discount')).toEqual(['Discount (WELCOME20)', '−$19.98']);
    expect(await text('#total')).toBe('$0.00');
    await page.fill('input[name=cardNumber]', '4242 4242 4242 4242');
    await page.fill('input[name=cardExpiry]', '12 / 34');
    await page.fill('input[name=cardCvc]', '123');
    await page.fill('input[name=billingName]', 'Trial Taker');
    await screenshot(page, 'plans-checkout');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/api\/v1\/success\?session_id=cs_/);
    expect(await page.textContent('h1')).toBe('Thank you — your payment went through');
  });

  it('back on the account page: trialing, with the trial end and the discount', async () => {
    await page.click('text=Continue');
    await page.waitForURL(`${nginx.url}/#account`);
    await expect
      .poll(
        async () => {
          await page.reload();
          await logInOnHome();
          await page.locator('#signed-in').waitFor();
          return (await page.locator('#subscription-discount').count()) > 0
            ? text('#subscription-summary')
            : '';
        },
        { timeout: 20_000, interval: 1000 },
      )
      .toMatch(/^Premium, \$99\.90 per year: trialing, renews on /);
    expect(await text('#subscription-trial')).toMatch(/^Free trial until \w{3} \d{1,2}, \d{4}\.$/);
    expect(await text('#subscription-discount')).toBe('Promotion WELCOME20: 20% off for 3 months.');
    expect(await text('#me-roles')).toContain('premium');
    await screenshot(page, 'plans-trialing');
  });

  it('picks Basic yearly: the change waits for the period end and the page says when', async () => {
    await page.selectOption('#change-plan', 'price_tollgate_basic_yearly');
    await page.click('button:has-text("Change plan")');
    await expect
      .poll(() => text('#pending-change'), SLOW)
      .toMatch(/^Changes to Basic on \w{3} \d{1,2}, \d{4}\.$/);
    // Still Premium (and its role) until then.
    expect(await text('#subscription-summary')).toMatch(/^Premium, \$99\.90 per year: trialing/);
    expect(await text('#me-roles')).toContain('premium');
    expect(await page.isHidden('#account-error')).toBe(true);
    await screenshot(page, 'plans-downgrade');

    // The API says the same, with the date: the end of the trial.
    const logged = await httpRequest(nginx.url, {
      method: 'POST',
      path: '/v1/auth/login',
      headers: jsonHeaders(),
      body: JSON.stringify({ login, password: PASSWORD }),
    });
    const token = logged.json<{ access_token: string }>().access_token;
    const current = await httpRequest(nginx.url, {
      method: 'GET',
      path: '/api/v1/subscription',
      headers: { authorization: `Bearer ${token}` },
    });
    const body = current.json<{
      current_period_end: string;
      pending_change: { price_id: string; product_name: string; effective_at: string };
    }>();
    expect(body.pending_change).toEqual({
      price_id: 'price_tollgate_basic_yearly',
      product_name: 'Basic',
      effective_at: body.current_period_end,
    });
    const shown = await text('#pending-change');
    const expected = new Date(body.current_period_end).toLocaleDateString('en', { dateStyle: 'medium' });
    expect(shown).toBe(`Changes to Basic on ${expected}.`);
    expect(watched.violations).toEqual([]);
  });
});
