/**
 * The first five minutes in Chromium, through nginx: the home page and its
 * account area (sign up, log in, subscribe, cancel/resume/change plan,
 * invoices, portal, log out) on the public API, the success and cancel
 * pages, the /problems pages, and Swagger UI's branding. Tokens must stay
 * out of URLs, cookies and storage. Screenshots go to e2e/artifacts/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type WatchedContext, watchedContext } from '../src/browser.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { shot as screenshot } from '../src/readme-shots.js';
import { type Services, startServices } from '../src/services.js';

const PASSWORD = 'plausible tangerine 42';
/** A plan change calls Stripe and re-reads the subscription: seconds on a busy machine. */
const SLOW = { timeout: 20_000 };

let services: Services;
let nginx: RunningNginx;
let browser: Browser;
let watched: WatchedContext;
let page: Page;
const login = `first${randomBytes(4).toString('hex')}`;
/** Every URL the browser requested: no token may appear in one. */
const requested: string[] = [];

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
  watched.context.on('request', (request) => requested.push(request.url()));
  page = await watched.newPage();
});

afterAll(async () => {
  await watched?.context.close().catch(() => {});
  await browser?.close();
  await services?.emulator.waitForWebhooks();
  await nginx?.stop();
  await services?.close();
});

/** What the page keeps outside its memory. */
async function stored(p: Page) {
  const inPage = await p.evaluate(() => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
  }));
  const cookies = await p.context().cookies();
  return { ...inPage, cookies: cookies.length };
}

async function summary() {
  return (await page.textContent('#subscription-summary'))?.replace(/\s+/g, ' ') ?? '';
}

async function payWithTestCard(p: Page) {
  await p.waitForURL(/\/c\/pay\/cs_/);
  await p.fill('input[name=cardNumber]', '4242 4242 4242 4242');
  await p.fill('input[name=cardExpiry]', '12 / 34');
  await p.fill('input[name=cardCvc]', '123');
  await p.fill('input[name=billingName]', 'First Five');
}

async function logInOnHome(p: Page) {
  await p.fill('#login-form input[name=login]', login);
  await p.fill('#login-form input[name=password]', PASSWORD);
  await p.click('#login-form button[type=submit]');
}

describe('the home page, in Chromium through nginx', () => {
  it('says what tollgate is and lists the plans from the catalogue with prices', async () => {
    const response = await page.goto(`${nginx.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.title()).toContain('tollgate');
    expect(await page.textContent('.hero')).toContain('tollgate is an open pair of services');
    const plans = (await page.locator('#plans .plan').allTextContents()).map((t) => t.replace(/\s+/g, ' '));
    expect(plans.some((t) => t.includes('Basic') && t.includes('$4.99') && t.includes('subscriber'))).toBe(
      true,
    );
    expect(plans.some((t) => t.includes('Premium') && t.includes('$9.99'))).toBe(true);
    await screenshot(page, 'home');
  });

  it('signs up, which logs in: the account shows no subscription yet', async () => {
    await page.fill('#signup-form input[name=login]', login);
    await page.fill('#signup-form input[name=email]', `${login}@example.com`);
    await page.fill('#signup-form input[name=password]', PASSWORD);
    await screenshot(page, 'signup');
    await page.click('#signup-form button[type=submit]');
    await page.locator('#signed-in').waitFor();
    expect(await page.textContent('#me-login')).toBe(login);
    expect(await summary()).toContain('No subscription yet');
    expect(await page.textContent('#invoices')).toContain('No invoices yet');
    expect(await stored(page)).toEqual({ local: 0, session: 0, cookie: '', cookies: 0 });
  });

  it('subscribes from a plan button: Stripe Checkout, the success page, and Continue back to the account', async () => {
    await page.click('button[data-price="price_tollgate_basic_monthly"]');
    await payWithTestCard(page);
    await screenshot(page, 'checkout');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/api\/v1\/success\?session_id=cs_/);
    expect(await page.textContent('h1')).toBe('Thank you — your payment went through');
    await screenshot(page, 'success');

    await page.click('text=Continue');
    await page.waitForURL(`${nginx.url}/#account`);
    // The session lived in the page's memory: back from Stripe, log in again
    // (until the webhook has made the subscription, which takes a moment).
    await page.locator('#login-form').waitFor();
    await expect
      .poll(
        async () => {
          await page.reload();
          await logInOnHome(page);
          await page.locator('#signed-in').waitFor();
          return summary();
        },
        { timeout: 15_000, interval: 1000 },
      )
      .toMatch(/Basic, \$4\.99 per month: active, renews on/);
    expect(await page.textContent('#me-roles')).toContain('subscriber');
    expect(await page.textContent('button[data-price="price_tollgate_basic_monthly"]')).toBe('Your plan');
    const invoices = await page.locator('#invoices tbody tr').allTextContents();
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toContain('paid');
    expect(invoices[0]).toContain('$4.99');
    await screenshot(page, 'account');
  });

  it('cancels at the period end, resumes, and changes plan', async () => {
    await page.click('button:has-text("Cancel at period end")');
    await expect.poll(summary, SLOW).toContain('(set to cancel)');
    await page.click('button:has-text("Resume")');
    await expect.poll(summary, SLOW).toMatch(/active, renews on/);
    await page.selectOption('#change-plan', 'price_tollgate_premium_monthly');
    await page.click('button:has-text("Change plan")');
    await expect.poll(summary, SLOW).toMatch(/^Premium, \$9\.99 per month/);
    expect(await page.textContent('button[data-price="price_tollgate_premium_monthly"]')).toBe('Your plan');
    expect(await page.isDisabled('button[data-price="price_tollgate_premium_monthly"]')).toBe(true);
    // A plan button on the home page switches plans once subscribed.
    expect(await page.textContent('button[data-price="price_tollgate_basic_monthly"]')).toBe(
      'Switch to this',
    );
    // Back to the cheaper plan: a downgrade waits for the period end (issue 12), and can be undone.
    await page.click('button[data-price="price_tollgate_basic_monthly"]');
    await expect.poll(() => page.textContent('#pending-change'), SLOW).toMatch(/^Changes to Basic on /);
    expect(await summary()).toMatch(/^Premium, \$9\.99 per month/);
    await page.click('button:has-text("Keep Premium")');
    await expect.poll(() => page.locator('#pending-change').count(), SLOW).toBe(0);
    expect(await page.isHidden('#account-error')).toBe(true);
  });

  it('opens the billing portal, whose Return comes back to the home page', async () => {
    await page.click('button:has-text("Billing portal")');
    await page.waitForURL(new RegExp(`^${services.emulator.url}/`));
    await screenshot(page, 'portal');
    await page.click('text=Return');
    await page.waitForURL(new RegExp(`^${nginx.url}/`));
    expect(await page.textContent('.hero')).toContain('tollgate');
  });

  it('logs out: the session ends at auth and the page forgets it', async () => {
    await logInOnHome(page);
    await page.locator('#signed-in').waitFor();
    const [logout] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/v1/auth/logout')),
      page.click('#logout'),
    ]);
    expect(logout.status()).toBe(204);
    await page.locator('#signed-out').waitFor();
    expect(await page.textContent('#account-note')).toBe('Logged out.');
    expect(await stored(page)).toEqual({ local: 0, session: 0, cookie: '', cookies: 0 });
  });

  it('shows an API error with a link to what to do', async () => {
    await page.fill('#login-form input[name=login]', login);
    await page.fill('#login-form input[name=password]', 'not the password at all');
    await page.click('#login-form button[type=submit]');
    const alert = page.locator('#account-error');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Invalid credentials');
    expect(await alert.locator('a').getAttribute('href')).toBe('/problems/invalid_credentials');
    await alert.locator('a').click();
    await page.waitForURL(`${nginx.url}/problems/invalid_credentials`);
    expect(await page.textContent('h1')).toBe('Invalid credentials');
    expect(await page.textContent('main')).toContain('What to do');
    await screenshot(page, 'problem');
  });

  it('no token ever appeared in a URL, and nothing broke the CSP', () => {
    expect(requested.length).toBeGreaterThan(10);
    for (const url of requested) expect(url).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(watched.violations).toEqual([]);
  });
});

describe('the cancel page, in Chromium through nginx', () => {
  it('lists the plans as links that start a checkout once logged in', async () => {
    const other = await watchedContext(browser);
    try {
      const p = await other.newPage();
      // Someone without a subscription leaves Checkout: Stripe sends them to the cancel page.
      const name = `leaver${randomBytes(4).toString('hex')}`;
      await p.goto(`${nginx.url}/`);
      await p.fill('#signup-form input[name=login]', name);
      await p.fill('#signup-form input[name=email]', `${name}@example.com`);
      await p.fill('#signup-form input[name=password]', PASSWORD);
      await p.click('#signup-form button[type=submit]');
      await p.locator('#signed-in').waitFor();
      await p.click('button[data-price="price_tollgate_premium_monthly"]');
      await p.waitForURL(/\/c\/pay\/cs_/);
      await p.click('text=← Back');
      await p.waitForURL(`${nginx.url}/api/v1/cancel`);
      expect(await p.textContent('h1')).toBe('Checkout canceled');
      await screenshot(p, 'cancel');

      const links = p.locator('ul.plan-links a');
      expect(await links.count()).toBeGreaterThanOrEqual(2);
      await p.click('ul.plan-links a:has-text("Basic")');
      await p.waitForURL(`${nginx.url}/?plan=price_tollgate_basic_monthly#account`);
      expect(await p.textContent('#account-note')).toContain('Basic, $4.99 per month');
      await p.fill('#login-form input[name=login]', name);
      await p.fill('#login-form input[name=password]', PASSWORD);
      await p.click('#login-form button[type=submit]');
      await p.waitForURL(/\/c\/pay\/cs_/);
      expect(await p.textContent('table')).toContain('Basic');
      expect(other.violations).toEqual([]);
    } finally {
      await other.context.close();
    }
  });
});

describe('the checkout page after a declined card', () => {
  it('keeps the name on card', async () => {
    const other = await watchedContext(browser);
    try {
      const p = await other.newPage();
      const name = `declined${randomBytes(4).toString('hex')}`;
      await p.goto(`${nginx.url}/`);
      await p.fill('#signup-form input[name=login]', name);
      await p.fill('#signup-form input[name=email]', `${name}@example.com`);
      await p.fill('#signup-form input[name=password]', PASSWORD);
      await p.click('#signup-form button[type=submit]');
      await p.locator('#signed-in').waitFor();
      await p.click('button[data-price="price_tollgate_basic_monthly"]');
      await payWithTestCard(p);
      await p.fill('input[name=cardNumber]', '4000 0000 0000 0002');
      await p.click('button[type=submit]');
      await p.locator('[role=alert]').waitFor();
      expect(await p.inputValue('input[name=billingName]')).toBe('First Five');
      expect(await p.inputValue('input[name=cardNumber]')).toBe('');
    } finally {
      await other.context.close();
    }
  });
});

describe('Swagger UI', () => {
  it("is tollgate's: title, logo, and how to authorize with the test card", async () => {
    const p = await watched.newPage();
    await p.goto(`${nginx.url}/swagger`);
    const info = p.locator('.swagger-ui .info');
    await info.waitFor({ timeout: 15_000 });
    expect(await p.title()).toBe('tollgate API');
    const logo = p.locator('.topbar a.link img');
    await logo.waitFor();
    expect(await logo.getAttribute('src')).toMatch(/svg/);
    expect(await p.locator('.topbar').innerHTML()).not.toMatch(/fastify/i);
    await expect.poll(() => info.textContent(), { timeout: 15_000 }).toContain('4242 4242 4242 4242');
    expect(await info.textContent()).toContain('Authorize');
    await screenshot(p, 'swagger');
  });
});
