/**
 * Issue 12, items 5-7 and 9, through the emulator and its clock: trials (to
 * active; refused by card fingerprint; once per user), promotion codes on
 * checkout and invoices, upgrade now with proration, downgrade at period end
 * (applied at renewal) and its cancellation, a plan with an add-on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_HAD_TRIAL_NOTE, TRIAL_USED_NOTE } from '../src/domain/plans/trials.js';
import {
  BASIC_MONTHLY,
  bearer,
  CARD_OK,
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

const PREMIUM_YEARLY_TRIAL = 'price_tollgate_premium_yearly';
const DOWNLOADS = 'price_tollgate_downloads_monthly';
const CARD_MASTERCARD = '5555 5555 5555 4444';
const CARD_VISA_DEBIT = '4000 0566 5566 5556';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

interface Plan {
  price_id: string;
  product_name: string;
  role: string | null;
}
interface SubscriptionBody {
  id: string;
  status: string;
  plan: Plan;
  entitled_role: string | null;
  current_period_end: string;
  trial: {
    outcome: string;
    days: number;
    ends_at: string | null;
    note: string | null;
    will_end_notified_at: string | null;
  } | null;
  discount: { promotion_code: string | null; percent_off: number | null; duration: string } | null;
  pending_change: { price_id: string; product_name: string; effective_at: string } | null;
  addons: SubscriptionBody[];
}
interface InvoiceBody {
  subscription_id: string;
  status: string;
  billing_reason: string;
  subtotal: number;
  discount_amount: number;
  total: number;
  amount_paid: number;
  promotion_code: string | null;
}

const settled = () => stack.emu.waitForWebhooks();

async function api(user: TestUser, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  return stack.app.inject({ method, url: `/api/v1${url}`, headers: bearer(user), payload });
}

async function subscription(user: TestUser) {
  return (await api(user, 'GET', '/subscription')).json() as SubscriptionBody;
}

/** Polls GET /subscription until `check` holds. */
function subscriptionWhen(user: TestUser, check: (s: SubscriptionBody) => boolean) {
  return eventually(async () => {
    const s = await subscription(user);
    // A 404 problem (nothing mirrored yet) is no subscription, whatever `check` says.
    return typeof s.id === 'string' && check(s) ? s : undefined;
  });
}

async function invoices(user: TestUser) {
  return ((await api(user, 'GET', '/invoices')).json() as { data: InvoiceBody[] }).data;
}

const hasRoles = (user: TestUser, expected: string[]) =>
  eventually(async () => {
    const roles = await rolesInAuth(stack, user);
    return JSON.stringify(roles) === JSON.stringify(expected) ? roles : undefined;
  });

/** GET /checkout with a price (and a code), then pays on the hosted page with `card`. */
async function checkoutAndPay(user: TestUser, priceId: string, card = CARD_OK, promotionCode?: string) {
  const query = new URLSearchParams({
    price_id: priceId,
    ...(promotionCode ? { promotion_code: promotionCode } : {}),
  });
  const started = await api(user, 'GET', `/checkout?${query}`);
  expect(started.statusCode, started.body).toBe(200);
  const body = started.json() as {
    checkout_session_id: string;
    checkout_session_url: string;
    trial_period_days: number | null;
    trial_note: string | null;
    amount_discount: number;
  };
  const paid = await payOnHostedPage(body.checkout_session_url, card);
  await paid.text();
  expect(paid.status).toBe(303);
  await settled();
  return body;
}

describe('trials', () => {
  it('a trial with a promotion code: trialing grants the role; trial_will_end is recorded; the first invoice carries the discount', async () => {
    const user = await newUser(stack);
    const started = await checkoutAndPay(user, PREMIUM_YEARLY_TRIAL, CARD_OK, 'welcome20');
    expect(started).toMatchObject({ trial_period_days: 14, trial_note: null });

    const trialing = await subscriptionWhen(user, (s) => s.trial !== null && s.discount !== null);
    expect(trialing).toMatchObject({
      status: 'trialing',
      entitled_role: 'premium',
      trial: { outcome: 'granted', days: 14, note: null, will_end_notified_at: null },
      discount: { promotion_code: 'WELCOME20', percent_off: 20, duration: 'repeating' },
    });
    await hasRoles(user, ['premium']);
    const first = await eventually(async () => (await invoices(user))[0]);
    expect(first).toMatchObject({ total: 0, amount_paid: 0 });

    stack.emu.advanceTime(11 * DAY + 3600);
    await settled();
    const warned = await subscriptionWhen(user, (s) => s.trial?.will_end_notified_at != null);
    expect(warned.status).toBe('trialing');

    stack.emu.advanceTime(3 * DAY + 2 * 3600);
    await settled();
    await subscriptionWhen(user, (s) => s.status === 'active');
    const paid = await eventually(async () =>
      (await invoices(user)).find((i) => i.billing_reason === 'subscription_cycle' && i.status === 'paid'),
    );
    // 20% of 99.90, on the first paid invoice, named by its code.
    expect(paid).toMatchObject({
      subtotal: 9990,
      discount_amount: 1998,
      total: 7992,
      amount_paid: 7992,
      promotion_code: 'WELCOME20',
    });
    expect(await rolesInAuth(stack, user)).toEqual(['premium']);
  });

  it('a card that had a trial on another account gets none: the checkout goes on, charged, and says why', async () => {
    const first = await newUser(stack);
    await checkoutAndPay(first, PREMIUM_YEARLY_TRIAL, CARD_MASTERCARD);
    await subscriptionWhen(first, (s) => s.trial?.outcome === 'granted');

    const second = await newUser(stack);
    const started = await checkoutAndPay(second, PREMIUM_YEARLY_TRIAL, CARD_MASTERCARD);
    // Before the card is known the offer stands; the card decides on completion.
    expect(started.trial_period_days).toBe(14);
    const refused = await subscriptionWhen(second, (s) => s.trial !== null && s.status === 'active');
    expect(refused.trial).toMatchObject({ outcome: 'refused', note: CARD_HAD_TRIAL_NOTE });
    const charged = await eventually(async () =>
      (await invoices(second)).find((i) => i.status === 'paid' && i.amount_paid > 0),
    );
    expect(charged).toMatchObject({ amount_paid: 9990, billing_reason: 'subscription_update' });
    await hasRoles(second, ['premium']);

    const page = await stack.app.inject({
      method: 'GET',
      url: `/api/v1/success?session_id=${started.checkout_session_id}`,
    });
    expect(page.body).toContain('this card already had one on another account');
  });

  it('one trial per user: a second checkout of a trial price offers none and says why', async () => {
    const user = await newUser(stack);
    // A card no other test gave a trial to.
    await checkoutAndPay(user, PREMIUM_YEARLY_TRIAL, CARD_VISA_DEBIT);
    const trialing = await subscriptionWhen(user, (s) => s.trial?.outcome === 'granted');
    await stack.stripe.subscriptions.cancel(trialing.id);
    await settled();
    await subscriptionWhen(user, (s) => s.status === 'canceled');

    const again = await api(user, 'GET', `/checkout?price_id=${PREMIUM_YEARLY_TRIAL}`);
    expect(again.json()).toMatchObject({ trial_period_days: null, trial_note: TRIAL_USED_NOTE });
    const session = await stack.stripe.checkout.sessions.retrieve(
      (again.json() as { checkout_session_id: string }).checkout_session_id,
    );
    expect(session.amount_total).toBe(9990);
  });
});

describe('promotion codes', () => {
  it('an unknown code is a problem, before any session exists', async () => {
    const user = await newUser(stack);
    const response = await api(user, 'GET', `/checkout?price_id=${BASIC_MONTHLY}&promotion_code=NOPE`);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'promotion_code_not_found' });
  });

  it("a code on a plan without trial: the first invoice is discounted; without a code Stripe's page takes one", async () => {
    const user = await newUser(stack);
    const plain = await api(user, 'GET', `/checkout?price_id=${BASIC_MONTHLY}`);
    const plainSession = await stack.stripe.checkout.sessions.retrieve(
      (plain.json() as { checkout_session_id: string }).checkout_session_id,
    );
    expect(plainSession.allow_promotion_codes).toBe(true);

    const started = await checkoutAndPay(user, BASIC_MONTHLY, CARD_OK, 'WELCOME20');
    expect(started.amount_discount).toBe(100);
    await subscriptionWhen(user, (s) => s.discount?.promotion_code === 'WELCOME20');
    const invoice = await eventually(async () => (await invoices(user)).find((i) => i.status === 'paid'));
    expect(invoice).toMatchObject({
      subtotal: 499,
      discount_amount: 100,
      total: 399,
      amount_paid: 399,
      promotion_code: 'WELCOME20',
    });
  });
});

describe('plan changes', () => {
  it('an upgrade takes effect now and charges the prorated difference now', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, BASIC_MONTHLY);
    await hasRoles(user, ['subscriber']);
    const changed = await api(user, 'POST', '/subscription/change', { price_id: PREMIUM_MONTHLY });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      plan: { price_id: PREMIUM_MONTHLY },
      entitled_role: 'premium',
      pending_change: null,
    });
    await hasRoles(user, ['premium']);
    const proration = await eventually(async () =>
      (await invoices(user)).find((i) => i.billing_reason === 'subscription_update' && i.status === 'paid'),
    );
    // Almost the whole month of the dearer plan, less what Basic had paid for it.
    expect(proration.amount_paid).toBeGreaterThan(490);
    expect(proration.amount_paid).toBeLessThanOrEqual(500);
  });

  it('a downgrade waits for the period end, can be cancelled, and is applied by the renewal', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await hasRoles(user, ['premium']);
    const before = await subscriptionWhen(user, (s) => s.status === 'active');

    const scheduled = (await api(user, 'POST', '/subscription/change', { price_id: BASIC_MONTHLY })).json();
    expect(scheduled).toMatchObject({
      plan: { price_id: PREMIUM_MONTHLY },
      entitled_role: 'premium',
      pending_change: {
        price_id: BASIC_MONTHLY,
        product_name: 'Basic',
        effective_at: before.current_period_end,
      },
    });
    const atStripe = await stack.stripe.subscriptions.retrieve(before.id);
    expect(atStripe.schedule).toMatch(/^sub_sched_/);

    const cancelled = await api(user, 'DELETE', '/subscription/change');
    expect(cancelled.json()).toMatchObject({ pending_change: null, plan: { price_id: PREMIUM_MONTHLY } });
    expect((await stack.stripe.subscriptions.retrieve(before.id)).schedule).toBeNull();
    const nothing = await api(user, 'DELETE', '/subscription/change');
    expect(nothing.json()).toMatchObject({ status: 404, code: 'plan_change_not_found' });

    // Cancelling the plan drops a waiting change (Stripe refuses to cancel under a schedule); resuming keeps the plan.
    await api(user, 'POST', '/subscription/change', { price_id: BASIC_MONTHLY });
    const canceling = await api(user, 'DELETE', '/subscription');
    expect(canceling.json()).toMatchObject({ set_to_cancel: true, pending_change: null });
    expect((await api(user, 'POST', '/subscription')).json()).toMatchObject({ set_to_cancel: false });

    await api(user, 'POST', '/subscription/change', { price_id: BASIC_MONTHLY });
    await settled();
    stack.emu.advanceTime(32 * DAY);
    await settled();
    const after = await subscriptionWhen(
      user,
      (s) => s.plan.price_id === BASIC_MONTHLY && s.pending_change === null,
    );
    expect(after).toMatchObject({ status: 'active', entitled_role: 'subscriber' });
    await hasRoles(user, ['subscriber']);
    const renewal = await eventually(async () =>
      (await invoices(user)).find((i) => i.billing_reason === 'subscription_cycle' && i.status === 'paid'),
    );
    expect(renewal.amount_paid).toBe(499);
    const change = await stack.app.billing.db.planChange.findMany({ where: { subscriptionId: before.id } });
    expect(change.map((c) => c.status).sort()).toEqual(['applied', 'canceled', 'canceled']);
  });

  it('a plan changed now (PUT) drops a downgrade waiting for the period end: the renewal keeps the new plan', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    const before = await subscriptionWhen(user, (s) => s.status === 'active');
    await api(user, 'POST', '/subscription/change', { price_id: BASIC_MONTHLY });

    // A price that is not for sale changes nothing, and keeps the waiting downgrade.
    const refused = await api(user, 'PUT', '/subscription', { price_id: 'price_nope' });
    expect(refused.statusCode).toBe(404);
    expect((await api(user, 'GET', '/subscription')).json()).toMatchObject({
      pending_change: { price_id: BASIC_MONTHLY },
    });

    const changed = await api(user, 'PUT', '/subscription', { price_id: PREMIUM_YEARLY_TRIAL });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ plan: { price_id: PREMIUM_YEARLY_TRIAL }, pending_change: null });
    expect((await stack.stripe.subscriptions.retrieve(before.id)).schedule).toBeNull();

    await settled();
    stack.emu.advanceTime(32 * DAY);
    await settled();
    const later = (await api(user, 'GET', '/subscription')).json();
    expect(later).toMatchObject({ plan: { price_id: PREMIUM_YEARLY_TRIAL }, entitled_role: 'premium' });
    await hasRoles(user, ['premium']);
    const changes = await stack.app.billing.db.planChange.findMany({ where: { subscriptionId: before.id } });
    expect(changes.map((c) => c.status)).toEqual(['canceled']);
  });
});

describe('add-ons', () => {
  it("a plan checkout's completion arriving late leaves an add-on checkout opened meanwhile payable", async () => {
    const user = await newUser(stack);
    const planSession = await subscribe(stack, user, BASIC_MONTHLY);
    await hasRoles(user, ['subscriber']);
    const addon = await api(user, 'GET', `/checkout?price_id=${DOWNLOADS}`);
    expect(addon.statusCode, addon.body).toBe(200);
    const addonSession = (addon.json() as { checkout_session_id: string }).checkout_session_id;
    // checkout.session.completed of the plan handled now (delivered late, or again): it expires
    // the customer's other open checkouts of the same kind only.
    await stack.app.billing.checkout.sessionCompleted(planSession);
    expect((await stack.stripe.checkout.sessions.retrieve(addonSession)).status).toBe('open');
  });

  it('an add-on needs a plan, sits beside it, and the one-subscription rule holds per plan and per add-on', async () => {
    const user = await newUser(stack);
    const alone = await api(user, 'GET', `/checkout?price_id=${DOWNLOADS}`);
    expect(alone.json()).toMatchObject({ status: 409, code: 'base_plan_required' });

    await subscribe(stack, user, BASIC_MONTHLY);
    await hasRoles(user, ['subscriber']);
    const addon = await checkoutAndPay(user, DOWNLOADS);
    expect(addon.trial_period_days).toBeNull();
    await hasRoles(user, ['downloads', 'subscriber']);

    const both = await subscriptionWhen(user, (s) => s.addons.length === 1);
    expect(both).toMatchObject({
      plan: { price_id: BASIC_MONTHLY, role: 'subscriber' },
      addons: [
        { status: 'active', plan: { price_id: DOWNLOADS, role: 'downloads' }, entitled_role: 'downloads' },
      ],
    });
    expect((await api(user, 'GET', `/checkout?price_id=${DOWNLOADS}`)).json()).toMatchObject({
      code: 'subscription_exists',
    });
    expect((await api(user, 'GET', `/checkout?price_id=${PREMIUM_MONTHLY}`)).json()).toMatchObject({
      code: 'subscription_exists',
    });
    // A plan change moves the plan, never the add-on; an add-on is not a plan to change to.
    const wrong = await api(user, 'POST', '/subscription/change', { price_id: DOWNLOADS });
    expect(wrong.json()).toMatchObject({ status: 400, code: 'not_a_base_plan' });
    const upgraded = await api(user, 'POST', '/subscription/change', { price_id: PREMIUM_MONTHLY });
    expect(upgraded.json()).toMatchObject({
      plan: { price_id: PREMIUM_MONTHLY },
      addons: [{ plan: { price_id: DOWNLOADS } }],
    });
    await hasRoles(user, ['downloads', 'premium']);
  });
});
