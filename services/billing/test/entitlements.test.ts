/**
 * Entitlements end to end through the emulator (issue 12, items 1, 2, 4, 8,
 * 10): Stripe Entitlements features on products, the union with the highest
 * limit, one-time purchases and their refund, dunning through each state with
 * a restricted step, a trial running into past_due, and stale events.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeSyncFor } from '../src/domain/sync/stripe-sync.js';
import { QUEUES } from '../src/queue/queue.js';
import {
  bearer,
  DAY,
  eventually,
  newUser,
  PASSWORD,
  PREMIUM_MONTHLY,
  payOnHostedPage,
  rolesInAuth,
  type Stack,
  startStack,
  subscribe,
  type TestUser,
} from './stack.js';
import { deliver, eventFixture } from './support/signed-events.js';

let stack: Stack;
let packPrice: string;
let weekPassPrice: string;

interface EntitlementsBody {
  features: Record<string, true | number>;
  roles: string[];
  version: number;
  source: {
    type: string;
    id: string;
    state: string;
    until: string | null;
    features: Record<string, unknown>;
  }[];
}

/**
 * As a client does: when auth raised the user's floor (their entitlements
 * shrank, so tokens issued before are refused with 401 entitlements_changed),
 * log in again and repeat the request once.
 */
async function asUser<T>(user: TestUser, request: () => Promise<T>): Promise<T> {
  const refused = (result: unknown) => {
    const response = result as { statusCode?: number; json?: () => { code?: string } } | null;
    return response?.statusCode === 401 && response.json?.().code === 'entitlements_changed';
  };
  try {
    const result = await request();
    if (!refused(result)) return result;
  } catch (error) {
    if (!String((error as Error).message).includes('entitlements_changed')) throw error;
  }
  user.token = await login(user);
  return request();
}

const authRoles = (user: TestUser) => asUser(user, () => rolesInAuth(stack, user));

async function entitlements(user: TestUser): Promise<EntitlementsBody> {
  const response = await asUser(user, () =>
    stack.app.inject({ method: 'GET', url: '/api/v1/entitlements', headers: bearer(user) }),
  );
  expect(response.statusCode).toBe(200);
  return response.json() as EntitlementsBody;
}

const sorted = (features: Record<string, true | number>) =>
  JSON.stringify(Object.fromEntries(Object.entries(features).sort(([a], [b]) => a.localeCompare(b))));

const entitlementsMatch = (user: TestUser, features: Record<string, true | number>) =>
  eventually(async () => {
    const body = await entitlements(user);
    if (JSON.stringify(body.features) !== sorted(features))
      throw new Error(`features are ${JSON.stringify(body.features)}`);
    return body;
  });

async function subscriptionBody(user: TestUser) {
  return (
    await asUser(user, () =>
      stack.app.inject({ method: 'GET', url: '/api/v1/subscription', headers: bearer(user) }),
    )
  ).json() as {
    id: string;
    status: string;
    dunning: { state: string; next_state: string | null; next_step_at: string | null };
  };
}

async function feature(lookupKey: string, limit?: number) {
  return stack.stripe.entitlements.features.create({
    name: lookupKey,
    lookup_key: lookupKey,
    ...(limit === undefined ? {} : { metadata: { limit: String(limit) } }),
  });
}

/** A one-time product on sale, with features, mirrored through its webhooks. */
async function oneTimeProduct(name: string, features: string[], metadata: Record<string, string> = {}) {
  const product = await stack.stripe.products.create({
    name,
    metadata: { tollgate_sellable: 'true', ...metadata },
  });
  for (const id of features)
    await stack.stripe.products.createFeature(product.id, { entitlement_feature: id });
  const price = await stack.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1999 });
  // Attaching a feature sends no product event; an update does, and billing re-reads the features with it.
  await stack.stripe.products.update(product.id, { description: `${name}, one-time` });
  await eventually(async () => {
    const mirrored = await stack.app.billing.db.product.findUnique({
      where: { id: product.id },
      include: { features: true, prices: true },
    });
    return mirrored?.features.length === features.length && mirrored.prices.length === 1;
  });
  return price.id;
}

async function buyOnce(user: TestUser, priceId: string) {
  const started = await stack.app.inject({
    method: 'GET',
    url: `/api/v1/checkout?price_id=${priceId}`,
    headers: bearer(user),
  });
  expect(started.statusCode).toBe(200);
  const { checkout_session_id, checkout_session_url } = started.json() as {
    checkout_session_id: string;
    checkout_session_url: string;
  };
  expect((await stack.stripe.checkout.sessions.retrieve(checkout_session_id)).mode).toBe('payment');
  const paid = await payOnHostedPage(checkout_session_url);
  const text = await paid.text();
  expect(paid.status, text.slice(0, 2000)).toBe(303);
  return checkout_session_id;
}

beforeAll(async () => {
  stack = await startStack({
    BILLING_GRACE_DAYS: '10',
    DUNNING_RESTRICT_AFTER_DAYS: '3',
    DUNNING_RESTRICTED_FEATURES: 'hd_streaming,projects=2',
    DUNNING_RESTRICTED_ROLE: 'subscriber',
  });
  // Premium: HD, 4K and 10 projects. Stripe sends the summary event once a subscription starts.
  const hd = await feature('hd_streaming');
  const uhd = await feature('uhd_streaming');
  const projects10 = await feature('projects_10', 10);
  for (const f of [hd, uhd, projects10])
    await stack.stripe.products.createFeature('prod_tollgate_premium', { entitlement_feature: f.id });
  // Limits are per feature: "projects" at 10 on Premium and 50 in the pack share one lookup_key family.
  const projects50 = await feature('projects_50', 50);
  const downloads = await feature('downloads');
  packPrice = await oneTimeProduct('Projects pack', [projects50.id, downloads.id], { role: 'subscriber' });
  weekPassPrice = await oneTimeProduct('Week pass', [downloads.id], { duration_days: '7' });
});
afterAll(async () => {
  await stack?.close();
});

describe('features on products', () => {
  it('a subscription grants its product’s features (the summary event brings them); the checks answer', async () => {
    const user = await newUser(stack);
    expect(await entitlements(user)).toEqual({ features: {}, roles: [], version: 0, source: [] });
    // A user billing holds no row for: every feature refused.
    const before = await stack.app.inject({
      method: 'GET',
      url: '/api/v1/entitlements/hd_streaming',
      headers: bearer(user),
    });
    expect(before.json()).toEqual({ allowed: false, limit: null });
    await subscribe(stack, user, PREMIUM_MONTHLY);
    const body = await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });
    expect(body.roles).toEqual(['premium']);
    expect(body.source).toMatchObject([{ type: 'subscription', state: 'active', until: null }]);
    expect(body.version).toBeGreaterThanOrEqual(1);

    const check = async (f: string) =>
      (
        await stack.app.inject({ method: 'GET', url: `/api/v1/entitlements/${f}`, headers: bearer(user) })
      ).json();
    expect(await check('projects_10')).toEqual({ allowed: true, limit: 10 });
    expect(await check('hd_streaming')).toEqual({ allowed: true, limit: null });
    expect(await check('downloads')).toEqual({ allowed: false, limit: null });
    const anonymous = await stack.app.inject({ method: 'GET', url: '/api/v1/entitlements' });
    expect(anonymous.statusCode).toBe(401);

    // The catalogue shows each product's features, and one-time prices as such.
    const products = (await stack.app.inject({ method: 'GET', url: '/api/v1/products' })).json() as {
      data: { id: string; features: Record<string, unknown>; prices: { id: string; type: string }[] }[];
    };
    expect(products.data.find((p) => p.id === 'prod_tollgate_premium')?.features).toEqual({
      hd_streaming: true,
      projects_10: 10,
      uhd_streaming: true,
    });
    const pack = products.data.find((p) => p.prices.some((price) => price.id === packPrice));
    expect(pack?.prices).toEqual([expect.objectContaining({ id: packPrice, type: 'one_time' })]);
    expect(pack?.features).toEqual({ downloads: true, projects_50: 50 });
  });
});

/** A fresh access token for the user: auth puts the entitlements it holds into `ent`. */
async function login(user: TestUser): Promise<string> {
  const response = await stack.auth.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { login: user.login, password: PASSWORD },
  });
  expect(response.statusCode).toBe(200);
  return (response.json() as { access_token: string }).access_token;
}

function entClaim(token: string): { v: number; f: Record<string, true | number> } | undefined {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  return payload.ent;
}

describe('the push reaches auth', () => {
  it('the next token carries the features; after a cancel the token that had them is refused (entitlements_changed)', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });
    const subscriptionId = (await subscriptionBody(user)).id;

    // Auth received billing's PUT /internal/v1/users/{id}/entitlements: its tokens say so.
    const withFeatures = await eventually(async () => {
      const token = await login(user);
      return entClaim(token)?.f.hd_streaming === true ? token : undefined;
    });
    const ent = entClaim(withFeatures);
    expect(ent?.f).toEqual({ hd_streaming: true, projects_10: 10, uhd_streaming: true });
    const holder = { ...user, token: withFeatures };
    expect(ent?.v).toBe((await entitlements(holder)).version);

    // Billing recorded the change in its audit log, with the cause, beside the outbox row.
    const audited = await stack.app.billing.db.auditEntry.findMany({
      where: { userId: user.id, action: 'entitlements_changed' },
    });
    expect(audited).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subscriptionId,
          outboxId: expect.any(String),
          cause: expect.objectContaining({ type: 'stripe_event', subscription_id: subscriptionId }),
        }),
      ]),
    );
    const outbox = await stack.app.billing.db.entitlementChange.findMany({ where: { userId: user.id } });
    expect(new Set(audited.map((a) => a.outboxId))).toEqual(new Set(outbox.map((c) => c.id)));
    // Each change names its push job (written with it, the id chosen before the send).
    for (const change of outbox) {
      const job = await stack.app.billing.boss.getJobById(QUEUES.entitlementSync, change.jobId ?? '');
      expect(job?.data).toMatchObject({ changeId: change.id });
    }

    // A cancel takes the features away: auth raises the user's floor, and billing's verifier refuses the old token.
    await stack.stripe.subscriptions.cancel(subscriptionId);
    const refused = await eventually(async () => {
      const response = await stack.app.inject({
        method: 'GET',
        url: '/api/v1/entitlements',
        headers: bearer(holder),
      });
      return response.statusCode === 401 ? response : undefined;
    });
    expect(refused.json()).toMatchObject({ code: 'entitlements_changed' });
    // A fresh token carries the current (empty) set and is accepted.
    const fresh = await eventually(async () => {
      const token = await login(user);
      return entClaim(token)?.f.hd_streaming === undefined ? token : undefined;
    });
    expect(entClaim(fresh)?.f).toEqual({});
    expect(await entitlements({ ...user, token: fresh })).toMatchObject({ features: {}, roles: [] });
  });
});

describe('one-time purchases', () => {
  it('union with a subscription, lifetime until refunded; a second purchase of it is refused', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });

    const sessionId = await buyOnce(user, packPrice);
    const success = await stack.app.inject({ method: 'GET', url: `/api/v1/success?session_id=${sessionId}` });
    expect(success.body).toContain('one-time: no subscription, nothing renews');
    const body = await entitlementsMatch(user, {
      downloads: true,
      hd_streaming: true,
      projects_10: 10,
      projects_50: 50,
      uhd_streaming: true,
    });
    expect(body.roles).toEqual(['premium', 'subscriber']);
    expect(body.source.find((s) => s.type === 'purchase')).toMatchObject({
      id: sessionId,
      state: 'paid',
      until: null,
    });
    await eventually(async () => {
      const roles = await authRoles(user);
      return JSON.stringify(roles) === '["premium","subscriber"]';
    });

    // A purchase's grant lost in auth comes back with reconcile.
    await stack.app.billing.authRoles.revoke(user.id, 'subscriber', `purchase:${sessionId}`);
    expect(await authRoles(user)).toEqual(['premium']);
    const reconciled = await stripeSyncFor(stack.app.billing).reconcile();
    expect(reconciled.purchases).toEqual({ grantsInAuth: 0, missingGranted: 1, extraRevoked: 0 });
    await eventually(async () => JSON.stringify(await authRoles(user)) === '["premium","subscriber"]');

    const again = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/checkout',
      headers: bearer(user),
      payload: { price_id: packPrice },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'already_purchased' });

    const purchase = await stack.app.billing.db.purchase.findUniqueOrThrow({ where: { id: sessionId } });
    await stack.stripe.refunds.create({ payment_intent: purchase.paymentIntentId as string });
    const after = await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });
    expect(after.roles).toEqual(['premium']);
    expect(after.version).toBeGreaterThan(body.version);
    await eventually(async () => JSON.stringify(await authRoles(user)) === '["premium"]');
    expect((await stack.app.billing.db.purchase.findUniqueOrThrow({ where: { id: sessionId } })).status).toBe(
      'refunded',
    );

    // Every change is recorded once, versions without gaps, each with its cause.
    const changes = await stack.app.billing.db.entitlementChange.findMany({
      where: { userId: user.id },
      orderBy: { version: 'asc' },
    });
    expect(changes.map((c) => c.version)).toEqual(changes.map((_, i) => i + 1));
    expect(changes.at(-1)?.cause).toMatchObject({ type: 'refund' });
    expect(
      changes.some((c) => (c.cause as { event_type?: string }).event_type === 'checkout.session.completed'),
    ).toBe(true);
  });

  it('an open purchase checkout stays payable while the user subscribes', async () => {
    const user = await newUser(stack);
    const started = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/checkout',
      headers: bearer(user),
      payload: { price_id: weekPassPrice },
    });
    const { checkout_session_url } = started.json() as { checkout_session_url: string };
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await stack.emu.waitForWebhooks();
    await eventually(async () => (await stack.app.billing.subscriptions.findLive(user.id)) ?? undefined);
    const paid = await payOnHostedPage(checkout_session_url);
    await paid.text();
    expect(paid.status).toBe(303);
    await entitlementsMatch(user, {
      downloads: true,
      hd_streaming: true,
      projects_10: 10,
      uhd_streaming: true,
    });
  });

  it('a purchase with duration_days runs out (the sweep ends it)', async () => {
    const user = await newUser(stack);
    await buyOnce(user, weekPassPrice);
    const body = await entitlementsMatch(user, { downloads: true });
    const until = new Date(body.source[0]?.until as string).getTime();
    expect(until).toBeGreaterThan(Date.now() + 6.9 * DAY * 1000);
    expect(until).toBeLessThan(Date.now() + 7.1 * DAY * 1000);
    stack.clock.advanceDays(7.1);
    try {
      expect(await stack.app.billing.purchases.sweepExpired()).toBeGreaterThanOrEqual(1);
      await entitlementsMatch(user, {});
    } finally {
      stack.clock.offsetMs = 0;
    }
  });
});

describe('dunning', () => {
  it('active -> past_due (all kept) -> restricted (reduced set, restricted role) -> revoked -> active on invoice.paid', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });
    const live = await stack.app.billing.subscriptions.findLive(user.id);
    const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: live!.customerId,
    });
    await stack.stripe.subscriptions.update(live!.id, { default_payment_method: failing.id });
    await stack.emu.waitForWebhooks();
    stack.emu.advanceTime(31 * DAY + 2 * 3600);
    await stack.emu.waitForWebhooks();
    try {
      const pastDue = await eventually(async () => {
        const s = await subscriptionBody(user);
        return s.status === 'past_due' ? s : undefined;
      });
      expect(pastDue.dunning.state).toBe('past_due');
      expect(pastDue.dunning.next_state).toBe('restricted');
      const restrictAt = new Date(pastDue.dunning.next_step_at as string).getTime();
      expect(restrictAt).toBeGreaterThan(Date.now() + 2.9 * DAY * 1000);
      expect(restrictAt).toBeLessThan(Date.now() + 3.1 * DAY * 1000);
      expect((await entitlements(user)).features).toEqual({
        hd_streaming: true,
        projects_10: 10,
        uhd_streaming: true,
      });

      stack.clock.advanceDays(3.1);
      expect(await stack.app.billing.subscriptionSync.sweepDunning()).toBeGreaterThanOrEqual(1);
      expect((await subscriptionBody(user)).dunning).toMatchObject({
        state: 'restricted',
        next_state: 'revoked',
      });
      // The configured reduced set, limited to what the plan grants (projects=2 names no feature of it).
      const restricted = await entitlementsMatch(user, { hd_streaming: true });
      expect(restricted.roles).toEqual(['subscriber']);
      await eventually(async () => JSON.stringify(await authRoles(user)) === '["subscriber"]');

      stack.clock.advanceDays(7);
      expect(await stack.app.billing.subscriptionSync.sweepDunning()).toBeGreaterThanOrEqual(1);
      expect((await subscriptionBody(user)).dunning).toEqual({
        state: 'revoked',
        next_state: null,
        next_step_at: null,
      });
      expect((await entitlementsMatch(user, {})).roles).toEqual([]);
      await eventually(async () => (await authRoles(user)).length === 0);

      // The card is fixed and the open invoice paid: invoice.paid brings everything back.
      const good = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: live!.customerId });
      await stack.stripe.subscriptions.update(live!.id, { default_payment_method: good.id });
      const open = await stack.stripe.invoices.list({ subscription: live!.id, status: 'open' });
      expect(open.data.length).toBeGreaterThanOrEqual(1);
      for (const invoice of open.data)
        await stack.stripe.invoices.pay(invoice.id as string, { payment_method: good.id });
      await stack.emu.waitForWebhooks();
      const back = await entitlementsMatch(user, {
        hd_streaming: true,
        projects_10: 10,
        uhd_streaming: true,
      });
      expect(back.roles).toEqual(['premium']);
      expect((await subscriptionBody(user)).dunning).toEqual({
        state: 'active',
        next_state: null,
        next_step_at: null,
      });
    } finally {
      stack.clock.offsetMs = 0;
    }
  });

  it('a trial grants like active, and a failed first charge at its end goes past_due with access kept', async () => {
    const user = await newUser(stack);
    const customer = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/customer',
      headers: bearer(user),
    });
    const { customer_id } = customer.json() as { customer_id: string };
    const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer_id,
    });
    const trial = await stack.stripe.subscriptions.create({
      customer: customer_id,
      items: [{ price: PREMIUM_MONTHLY }],
      trial_period_days: 7,
      default_payment_method: failing.id,
      metadata: { userId: user.id },
    });
    expect(trial.status).toBe('trialing');
    await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });
    expect((await subscriptionBody(user)).dunning.state).toBe('active');

    await stack.emu.waitForWebhooks();
    stack.emu.advanceTime(7 * DAY + 2 * 3600);
    await stack.emu.waitForWebhooks();
    const pastDue = await eventually(async () => {
      const s = await subscriptionBody(user);
      return s.status === 'past_due' ? s : undefined;
    });
    expect(pastDue.dunning).toMatchObject({ state: 'past_due', next_state: 'restricted' });
    expect((await entitlements(user)).features).toEqual({
      hd_streaming: true,
      projects_10: 10,
      uhd_streaming: true,
    });
  });
});

describe('Stripe’s truth, whatever the order', () => {
  it('stale subscription and summary events re-derive the same answer and change nothing', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await entitlementsMatch(user, { hd_streaming: true, projects_10: 10, uhd_streaming: true });
    const live = await stack.app.billing.subscriptions.findLive(user.id);
    await stack.stripe.subscriptions.cancel(live!.id);
    await stack.emu.waitForWebhooks();
    const ended = await entitlementsMatch(user, {});
    const versionAfterCancel = ended.version;

    // Delivered late, out of order: the subscription's creation (active) and a summary listing HD.
    const created = eventFixture('customer.subscription.created', {
      id: live!.id,
      object: 'subscription',
      customer: live!.customerId,
      status: 'active',
    });
    const summary = eventFixture('entitlements.active_entitlement_summary.updated', {
      object: 'entitlements.active_entitlement_summary',
      customer: live!.customerId,
      entitlements: { object: 'list', data: [{ lookup_key: 'hd_streaming' }], has_more: false },
    });
    for (const event of [summary, created]) {
      const response = await deliver(stack, JSON.stringify(event));
      expect(response.statusCode).toBe(200);
    }
    await eventually(async () => {
      const rows = await stack.app.billing.db.webhookEvent.findMany({
        where: { id: { in: [created.id as string, summary.id as string] } },
      });
      return rows.length === 2 && rows.every((r) => r.status === 'processed');
    });
    const after = await entitlements(user);
    expect(after.features).toEqual({});
    expect(after.version).toBe(versionAfterCancel);
    expect((await subscriptionBody(user)).status).toBe('canceled');
  });
});
