/**
 * Billing's admin panel in Chromium, through the real nginx gateway:
 * - a page on another site tries every action by link, image, form POST and
 *   fetch while the admin is signed in: nothing changes;
 * - the admin's own click on an action in the panel works;
 * - the panel is tollgate's (name, logo, "Login"), money reads as money,
 *   lists are newest first, raw Stripe objects are formatted JSON, the
 *   customer page shows the user's audit history from billing and auth, and
 *   no request leaves the machine (no Google Fonts);
 * - screenshots of the login, the dashboard and every list go to e2e/artifacts/.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../src/browser.js';
import { httpRequest, jsonHeaders } from '../src/http.js';
import { freePort, type RunningNginx, startNginx } from '../src/nginx.js';
import { type Services, startServices } from '../src/services.js';

const PASSWORD = 'plausible tangerine 42';
const RESOURCES = ['Customer', 'Subscription', 'Product', 'Price', 'Invoice', 'WebhookEvent', 'RoleSync'];

let services: Services;
let nginx: RunningNginx;
let browser: Browser;
let context: BrowserContext;
let attacker: Server;
let attackerUrl: string;
/** The panel's origin ("localhost") is another site than the attacker's ("127.0.0.1"). */
let panel: string;
let stripe: Stripe;
let subscriptionId: string;
let customerId: string;
const requests: string[] = [];

const db = () => services.billing.app.billing.db;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A user with a paid subscription: checkout through the gateway, paid on the emulator's page. */
async function subscriber() {
  const login = `adm${randomBytes(5).toString('hex')}`;
  let userId = '';
  const call = (path: string, body: unknown, token?: string) =>
    httpRequest(nginx.url, { method: 'POST', path, headers: jsonHeaders(token), body: JSON.stringify(body) });
  const registered = await call('/v1/auth/register', {
    login,
    password: PASSWORD,
    email: `${login}@example.com`,
  });
  expect(registered.status).toBe(201);
  userId = registered.json<{ id: string }>().id;
  const token = (await call('/v1/auth/login', { login, password: PASSWORD })).json<{ access_token: string }>()
    .access_token;
  const checkout = await call('/api/v1/checkout', { price_id: 'price_tollgate_basic_monthly' }, token);
  expect(checkout.status, checkout.text()).toBe(200);
  const paid = await fetch(checkout.json<{ checkout_session_url: string }>().checkout_session_url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      cardNumber: '4242 4242 4242 4242',
      cardExpiry: '12 / 34',
      cardCvc: '123',
      billingName: 'Admin Test',
    }),
  });
  expect(paid.status).toBe(303);
  return eventually('the subscription and its paid invoice in billing', async () => {
    const subscription = await db().subscription.findFirst({ where: { userId, status: 'active' } });
    const invoice = await db().invoice.findFirst({
      where: { subscriptionId: subscription?.id, status: 'paid' },
    });
    const sync = await db().roleSync.findFirst({ where: { userId, status: 'succeeded' } });
    return subscription && invoice && sync ? subscription : null;
  });
}

beforeAll(async () => {
  const port = await freePort();
  panel = `http://localhost:${port}`;
  [services, browser] = await Promise.all([
    startServices({ publicUrl: panel, webhookUrl: `http://127.0.0.1:${port}/api/v1/webhook` }),
    launchChromium(),
  ]);
  nginx = await startNginx({
    authUpstream: services.auth.address,
    billingUpstream: services.billing.address,
    port,
  });
  stripe = new Stripe(services.emulator.apiKey, { ...services.emulator.stripeConfig, maxNetworkRetries: 0 });
  // Two customers, so every list has more than one row to order.
  await subscriber();
  const subscription = await subscriber();
  subscriptionId = subscription.id;
  customerId = subscription.customerId;

  let page = '';
  attacker = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  (attacker as Server & { setPage(html: string): void }).setPage = (html) => {
    page = html;
  };

  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on('request', (request) => requests.push(request.url()));
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await services?.emulator.waitForWebhooks();
  await nginx?.stop();
  await services?.close();
});

/** Opens the panel, logging in first when this browser has no session yet. */
async function logIn(page: Page) {
  await page.goto(`${panel}/admin`);
  if (new URL(page.url()).pathname === '/admin') {
    await page.locator('[data-testid=subscriptions-chart]').waitFor({ timeout: 30_000 });
    return;
  }
  expect(new URL(page.url()).pathname).toBe('/admin/login');
  await page.fill('input[name=email]', 'admin');
  await page.fill('input[name=password]', 'admin');
  await Promise.all([
    page.waitForURL(`${panel}/admin`, { waitUntil: 'commit' }),
    page.getByRole('button', { name: 'Login' }).click(),
  ]);
  await page.locator('[data-testid=subscriptions-chart]').waitFor({ timeout: 30_000 });
}

/** What each action would change, read from Stripe and billing's database. */
async function observable() {
  const [subscription, refunds, customer, events, syncs] = await Promise.all([
    stripe.subscriptions.retrieve(subscriptionId),
    stripe.refunds.list({ limit: 100 }),
    db().customer.findUniqueOrThrow({ where: { id: customerId } }),
    db().webhookEvent.findMany({ orderBy: { id: 'asc' } }),
    db().roleSync.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return {
    subscription: subscription.status,
    refunds: refunds.data.length,
    customer: customer.updatedAt.toISOString(),
    events: events.map(
      (e) => `${e.id}:${e.attempts}:${e.enqueuedAt?.toISOString()}:${e.updatedAt.toISOString()}`,
    ),
    syncs: syncs.map((s) => `${s.id}:${s.attempts}:${s.updatedAt.toISOString()}`),
  };
}

describe('admin panel in Chromium, through nginx', () => {
  it('the login page is tollgate’s: name, logo, a "Login" field, fonts from the server', async () => {
    const page = await context.newPage();
    await page.goto(`${panel}/admin/login`);
    await page.locator('input[name=email]').waitFor();
    expect(await page.title()).toBe('tollgate billing');
    const text = (await page.locator('#app').textContent()) ?? '';
    expect(text).toContain('tollgate billing');
    expect(text).not.toMatch(/AdminJS|Welcome/);
    expect(await page.locator('label', { hasText: /^Login$/ }).count()).toBe(1);
    expect(await page.locator('img[src="/admin/tollgate/logo.svg"]').count()).toBeGreaterThan(0);
    // Roboto comes from the panel's own server (fonts.css), and loads.
    expect(await page.evaluate(async () => (await document.fonts.load('400 16px Roboto')).length)).toBe(1);
    expect(await page.evaluate(() => document.fonts.check('400 16px Roboto'))).toBe(true);
    await screenshot(page, 'admin-login');
    await page.close();
  });

  it('a page on another site tries every action by link, image, form POST and fetch: nothing changes', async () => {
    const page = await context.newPage();
    await logIn(page);
    const event = await db().webhookEvent.findFirstOrThrow();
    const sync = await db().roleSync.findFirstOrThrow();
    const targets = [
      `/admin/api/resources/Subscription/records/${subscriptionId}/cancelNow`,
      `/admin/api/resources/Subscription/records/${subscriptionId}/refundLatest`,
      `/admin/api/resources/Customer/records/${customerId}/resync`,
      `/admin/api/resources/WebhookEvent/records/${event.id}/replay`,
      `/admin/api/resources/RoleSync/records/${sync.id}/retry`,
      `/admin/api/resources/Customer/bulk/bulkDelete?recordIds=${customerId}`,
    ].map((path) => `${panel}${path}`);
    const before = await observable();

    const html = `<!doctype html><body>
      ${targets.map((url, i) => `<a id="link${i}" href="${url}">link</a><img src="${url}">`).join('\n')}
      <iframe name="sink"></iframe>
      ${targets
        .map(
          (url, i) =>
            `<form id="form${i}" target="sink" method="POST" action="${url}"><input name="x" value="1"></form>`,
        )
        .join('\n')}
      <script>
        window.attempts = Promise.all(${JSON.stringify(targets)}.map((url) =>
          fetch(url, { method: 'POST', credentials: 'include', mode: 'no-cors',
            headers: { 'content-type': 'text/plain' }, body: '{}' }).catch(() => null)));
        document.querySelectorAll('form').forEach((form) => form.submit());
      </script></body>`;
    (attacker as Server & { setPage(html: string): void }).setPage(html);
    const evil = await context.newPage();
    await evil.goto(attackerUrl);
    await evil.evaluate(() => (window as unknown as { attempts: Promise<unknown> }).attempts);
    // The links: each clicked (a top-level navigation to the panel), then back to the attacker's page.
    for (let i = 0; i < targets.length; i++) {
      await evil.goto(attackerUrl, { waitUntil: 'commit' });
      await Promise.all([
        evil.waitForURL((url) => url.origin === panel, { waitUntil: 'commit' }),
        evil.click(`#link${i}`, { noWaitAfter: true }),
      ]);
    }
    await sleep(1500);
    expect(await observable()).toEqual(before);
    expect(before.subscription).toBe('active');
    await evil.close();
    await page.close();
  }, 180_000);

  it('the admin’s own click on an action in the panel works', async () => {
    const page = await context.newPage();
    await logIn(page);
    await page.goto(`${panel}/admin/resources/Subscription/records/${subscriptionId}/show`);
    await page.getByText('Refund latest invoice').first().click();
    const confirm = page.locator('[data-testid=confirm-action]');
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain(
      'Refund the latest paid invoice of this subscription in full?',
    );
    await confirm.getByRole('button', { name: 'Refund latest invoice' }).click();
    await page.getByText(/Refunded \$?[\d.]+ USD of in_/).waitFor({ timeout: 20_000 });
    expect(new URL(page.url()).pathname).toBe(`/admin/resources/Subscription/records/${subscriptionId}/show`);
    const refunds = await stripe.refunds.list({ limit: 10 });
    expect(refunds.data).toHaveLength(1);
    await page.close();
  }, 120_000);

  it('dashboard and every list: money as money, newest first, raw objects as JSON (screenshots)', async () => {
    const page = await context.newPage();
    await logIn(page);
    await screenshot(page, 'admin-dashboard');
    for (const resource of RESOURCES) {
      await page.goto(`${panel}/admin/resources/${resource}`);
      await page.locator('table tbody tr').first().waitFor({ timeout: 20_000 });
      await screenshot(
        page,
        `admin-list-${resource.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase())}`,
      );
    }

    await page.goto(`${panel}/admin/resources/Invoice`);
    await page.locator('table tbody tr').first().waitFor();
    const price = await db().price.findUniqueOrThrow({ where: { id: 'price_tollgate_basic_monthly' } });
    const asMoney = `$${(price.unitAmount! / 100).toFixed(2)}`;
    const invoiceCells = await page.locator('table tbody tr').first().locator('td').allTextContents();
    expect(invoiceCells).toContain(asMoney);
    expect(invoiceCells).not.toContain(String(price.unitAmount));
    await page.goto(`${panel}/admin/resources/Price`);
    await page.locator('table tbody tr').first().waitFor();
    expect(await page.locator('table tbody').textContent()).toMatch(/\$\d+\.\d\d/);

    // Newest first, as the panel asks its API for a list (the default sort).
    const newestFirst = async (resource: string, field: string) => {
      const response = await page.request.get(`${panel}/admin/api/resources/${resource}/actions/list`);
      expect(response.status()).toBe(200);
      const records = ((await response.json()) as { records: { params: Record<string, string> }[] }).records;
      expect(records.length, resource).toBeGreaterThan(1);
      const times = records.map((r) => new Date(r.params[field]!).getTime());
      expect(times, resource).toEqual([...times].sort((a, b) => b - a));
    };
    await newestFirst('WebhookEvent', 'receivedAt');
    await newestFirst('RoleSync', 'createdAt');
    await newestFirst('Invoice', 'stripeCreatedAt');

    await page.goto(`${panel}/admin/resources/Subscription/records/${subscriptionId}/show`);
    const raw = page.locator('[data-testid=json-raw]');
    await raw.waitFor();
    const json = (await raw.textContent()) ?? '';
    expect(json).toMatch(/^\{\n {2}"id": "sub_/);
    expect(JSON.parse(json)).toMatchObject({ id: subscriptionId, object: 'subscription' });
    await screenshot(page, 'admin-subscription');
    await page.close();
  }, 180_000);

  it('the customer page shows why the user has what they have: both services’ history (screenshot)', async () => {
    const page = await context.newPage();
    await logIn(page);
    await page.goto(`${panel}/admin/resources/Customer/records/${customerId}/show`);
    const history = page.locator('[data-testid=json-history]');
    await history.waitFor({ timeout: 20_000 });
    const shown = JSON.parse((await history.textContent()) ?? '{}') as {
      data: { service: string; action: string; role: string | null; cause: { type: string } | null }[];
      auth_included: boolean;
    };
    expect(shown.auth_included).toBe(true);
    const lines = shown.data.map((e) => `${e.service}:${e.action}:${e.role}:${e.cause?.type}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        'billing:role_grant:subscriber:stripe_event',
        'auth:role_granted:subscriber:stripe_event',
      ]),
    );
    await screenshot(page, 'admin-customer-history');
    await page.close();
  }, 120_000);

  it('no request left the machine (no Google Fonts, no CDN)', () => {
    const hosts = new Set(requests.map((url) => new URL(url).hostname));
    expect([...hosts].sort()).toEqual(['127.0.0.1', 'localhost']);
    expect(requests.some((url) => url.includes('/admin/tollgate/fonts/'))).toBe(true);
  });
});
