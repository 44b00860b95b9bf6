import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASIC_MONTHLY,
  bearer,
  CARD_DECLINED,
  DAY,
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  payOnHostedPage,
  rolesInAuth,
  type Stack,
  startStack,
  subscribe,
  type TestUser,
} from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ BILLING_GRACE_DAYS: '3' });
});
afterAll(async () => {
  await stack?.close();
});

interface SubscriptionBody {
  id: string;
  status: string;
  set_to_cancel: boolean;
  cancel_at_period_end: boolean;
  entitled_role: string | null;
  grace_period_ends_at: string | null;
  current_period_end: string;
  plan: { price_id: string; role: string | null; product_name: string };
}

async function subscription(user: TestUser, method: 'GET' | 'DELETE' | 'POST' = 'GET') {
  return stack.app.inject({ method, url: '/api/v1/subscription', headers: bearer(user) });
}

const hasRoles = (user: TestUser, expected: string[]) =>
  eventually(async () => {
    const roles = await rolesInAuth(stack, user);
    return JSON.stringify(roles) === JSON.stringify(expected) ? roles : undefined;
  });

async function settled() {
  await stack.emu.waitForWebhooks();
}

describe('the money path', () => {
  it('checkout, pay, role granted; cancel, resume; period end revokes the role', async () => {
    const user = await newUser(stack);
    expect(await rolesInAuth(stack, user)).toEqual([]);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await hasRoles(user, ['premium']);

    const current = (await subscription(user)).json() as SubscriptionBody;
    expect(current).toMatchObject({
      status: 'active',
      set_to_cancel: false,
      entitled_role: 'premium',
      plan: { price_id: PREMIUM_MONTHLY, role: 'premium', product_name: 'Premium' },
    });
    const invoices = await eventually(async () => {
      const r = await stack.app.inject({ method: 'GET', url: '/api/v1/invoices', headers: bearer(user) });
      const data = (r.json() as { data: { status: string; amount_paid: number; subscription_id: string }[] })
        .data;
      return data.length > 0 ? data : undefined;
    });
    expect(invoices[0]).toMatchObject({ status: 'paid', amount_paid: 999, subscription_id: current.id });
    const portal = await stack.app.inject({ method: 'GET', url: '/api/v1/portal', headers: bearer(user) });
    expect(portal.statusCode).toBe(200);
    expect((portal.json() as { url: string }).url).toMatch(/^http/);

    // Cancel at period end: still entitled until then. Twice is the same as once.
    const canceled = (await subscription(user, 'DELETE')).json() as SubscriptionBody;
    expect(canceled).toMatchObject({ status: 'active', set_to_cancel: true, cancel_at_period_end: true });
    expect(((await subscription(user, 'DELETE')).json() as SubscriptionBody).set_to_cancel).toBe(true);
    const resumed = (await subscription(user, 'POST')).json() as SubscriptionBody;
    expect(resumed).toMatchObject({ status: 'active', set_to_cancel: false });
    const notCanceling = await subscription(user, 'POST');
    expect(notCanceling.statusCode).toBe(409);
    expect(notCanceling.json()).toMatchObject({ code: 'subscription_not_canceling' });
    expect(await rolesInAuth(stack, user)).toEqual(['premium']);

    await subscription(user, 'DELETE');
    await settled();
    stack.emu.advanceTime(32 * DAY);
    await settled();
    await hasRoles(user, []);
    const ended = (await subscription(user)).json() as SubscriptionBody;
    expect(ended).toMatchObject({ status: 'canceled', entitled_role: null });
    // Only the grant and the final revoke went to auth.
    const syncs = await stack.app.billing.db.roleSync.findMany({
      where: { subscriptionId: current.id },
      orderBy: { createdAt: 'asc' },
    });
    expect(syncs.map((s) => [s.action, s.status])).toEqual([
      ['grant', 'succeeded'],
      ['revoke', 'succeeded'],
    ]);
  });

  it('a cancel set in the portal (flexible billing: only cancel_at) can be resumed', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, BASIC_MONTHLY);
    await hasRoles(user, ['subscriber']);
    const live = await stack.app.billing.subscriptions.findLive(user.id);
    await stack.stripe.subscriptions.update(live!.id, { cancel_at: 'max_period_end' });
    await settled();
    const setToCancel = await eventually(async () => {
      const body = (await subscription(user)).json() as SubscriptionBody;
      return body.set_to_cancel ? body : undefined;
    });
    expect(setToCancel.cancel_at_period_end).toBe(false);
    const resumed = (await subscription(user, 'POST')).json() as SubscriptionBody;
    expect(resumed.set_to_cancel).toBe(false);
    expect((await stack.stripe.subscriptions.retrieve(live!.id)).cancel_at).toBeNull();
  });

  it('a plan change moves the role (prorated at Stripe)', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, BASIC_MONTHLY);
    await hasRoles(user, ['subscriber']);
    const changed = await stack.app.inject({
      method: 'PUT',
      url: '/api/v1/subscription',
      headers: bearer(user),
      payload: { price_id: PREMIUM_MONTHLY },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ plan: { price_id: PREMIUM_MONTHLY }, entitled_role: 'premium' });
    await hasRoles(user, ['premium']);
    const same = await stack.app.inject({
      method: 'PUT',
      url: '/api/v1/subscription',
      headers: bearer(user),
      payload: { price_id: PREMIUM_MONTHLY },
    });
    expect(same.json()).toMatchObject({ status: 409, code: 'same_price' });
  });

  it('a failed renewal keeps the role through the grace period, then drops it', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await hasRoles(user, ['premium']);
    const live = await stack.app.billing.subscriptions.findLive(user.id);
    const failing = await stack.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: live!.customerId,
    });
    await stack.stripe.subscriptions.update(live!.id, { default_payment_method: failing.id });
    await settled();
    stack.emu.advanceTime(31 * DAY + 2 * 3600);
    await settled();
    const pastDue = await eventually(async () => {
      const body = (await subscription(user)).json() as SubscriptionBody;
      return body.status === 'past_due' ? body : undefined;
    });
    expect(pastDue.entitled_role).toBe('premium');
    expect(new Date(pastDue.grace_period_ends_at!).getTime()).toBeGreaterThan(Date.now() + 2.9 * DAY * 1000);
    expect(await rolesInAuth(stack, user)).toEqual(['premium']);

    stack.clock.advanceDays(3.1);
    expect(await stack.app.billing.subscriptionSync.sweepDunning()).toBeGreaterThanOrEqual(1);
    await hasRoles(user, []);
    expect(((await subscription(user)).json() as SubscriptionBody).entitled_role).toBeNull();
    stack.clock.offsetMs = 0;
  });

  it('a declined card creates nothing and grants nothing', async () => {
    const user = await newUser(stack);
    const started = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/checkout',
      headers: bearer(user),
      payload: { price_id: PREMIUM_MONTHLY },
    });
    const { checkout_session_url } = started.json() as { checkout_session_url: string };
    const declined = await payOnHostedPage(checkout_session_url, CARD_DECLINED);
    await declined.text();
    expect(declined.status).toBe(402);
    await settled();
    expect((await subscription(user)).statusCode).toBe(404);
    expect(await rolesInAuth(stack, user)).toEqual([]);
  });
});
