/**
 * Billing in front of a slow or failing Stripe (a proxy between billing and
 * the emulator holds or fails chosen answers): no database transaction waits
 * on Stripe, an older fetch never overwrites a newer one, and a processing
 * failure is retried, dead-lettered and replayable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeSyncFor } from '../src/domain/sync/stripe-sync.js';
import {
  BASIC_MONTHLY,
  eventually,
  newUser,
  rolesInAuth,
  type Stack,
  sleep,
  startStack,
  subscribe,
} from './stack.js';
import { deliver, eventFixture } from './support/signed-events.js';
import type { StripeProxy } from './support/stripe-proxy.js';

let stack: Stack;
let proxy: StripeProxy;

beforeAll(async () => {
  stack = await startStack({ WEBHOOK_MAX_ATTEMPTS: '2' }, { stripeProxy: true });
  proxy = stack.proxy as StripeProxy;
});
afterAll(async () => {
  await stack?.close();
});

/** A subscribed user whose role has arrived, with every webhook of it processed. */
async function subscribedUser() {
  const user = await newUser(stack);
  const sessionId = await subscribe(stack, user, BASIC_MONTHLY);
  await eventually(async () => (await rolesInAuth(stack, user)).includes('subscriber'), 15_000);
  const session = await stack.stripe.checkout.sessions.retrieve(sessionId);
  await stack.emu.waitForWebhooks();
  await eventually(
    async () => (await stack.app.billing.db.webhookEvent.count({ where: { status: 'pending' } })) === 0,
  );
  return { user, subscriptionId: session.subscription as string };
}

/** Backends of billing's database sitting inside a transaction without running a statement. */
async function idleInTransaction(): Promise<number> {
  const [row] = await stack.app.billing.db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM pg_stat_activity
     WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
  return Number(row?.n ?? 0);
}

const isRetrieve = (id: string) => (r: { method: string; path: string }) =>
  r.method === 'GET' && r.path.startsWith(`/v1/subscriptions/${id}`);

describe('a slow Stripe', () => {
  it('holds no transaction open while a subscription re-fetch waits on Stripe', async () => {
    const { subscriptionId } = await subscribedUser();
    proxy.hold(isRetrieve(subscriptionId), 1500, 1);
    const started = Date.now();
    const sync = stack.app.billing.subscriptionSync.sync(subscriptionId);
    const samples: number[] = [];
    await sleep(300);
    while (Date.now() - started < 1300) {
      samples.push(await idleInTransaction());
      await sleep(100);
    }
    const result = await sync;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400); // the fetch really was held
    expect(result.status).toBe('active');
    expect(Math.max(...samples)).toBe(0);
  });

  it('an older fetch that answers last never overwrites a newer one', async () => {
    const { subscriptionId } = await subscribedUser();
    // Fetch A reads the subscription as it is now (not set to cancel), but its answer is held...
    proxy.hold(isRetrieve(subscriptionId), 2000, 1);
    const older = stack.app.billing.subscriptionSync.sync(subscriptionId);
    await eventually(async () => proxy.seen.some(isRetrieve(subscriptionId)));
    await sleep(100);
    // ...meanwhile the subscription changes at Stripe and that change's webhook is applied.
    await stack.stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true });
    await eventually(async () => {
      const row = await stack.app.billing.db.subscription.findUnique({ where: { id: subscriptionId } });
      return row?.cancelAtPeriodEnd === true;
    });
    // A's answer arrives last: it is recognised as older and changes nothing.
    const result = await older;
    expect(result.stale).toBe(true);
    const row = await stack.app.billing.db.subscription.findUnique({ where: { id: subscriptionId } });
    expect(row?.cancelAtPeriodEnd).toBe(true);
  });
});

describe('sync-stripe against webhook re-fetches', () => {
  it('a listing that began before a re-fetch does not overwrite what the re-fetch applied', async () => {
    const { subscriptionId } = await subscribedUser();
    const isList = (r: { method: string; path: string }) =>
      r.method === 'GET' && r.path.startsWith('/v1/subscriptions?');
    proxy.hold(isList, 2000, 1);
    const listsBefore = proxy.seen.filter(isList).length;
    const run = stripeSyncFor(stack.app.billing).run();
    await eventually(async () => proxy.seen.filter(isList).length > listsBefore);
    await sleep(100);
    // The listing has read the subscription (not set to cancel); then it changes and the webhook is applied.
    await stack.stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true });
    await eventually(async () => {
      const row = await stack.app.billing.db.subscription.findUnique({ where: { id: subscriptionId } });
      return row?.cancelAtPeriodEnd === true;
    });
    await run;
    const row = await stack.app.billing.db.subscription.findUnique({ where: { id: subscriptionId } });
    expect(row?.cancelAtPeriodEnd).toBe(true);
  });
});

describe('a failing Stripe', () => {
  it('retries a failing event, then dead-letters it with the error; replay runs it again', async () => {
    const event = eventFixture('checkout.session.completed', {
      id: 'cs_test_while_stripe_fails',
      object: 'checkout.session',
    });
    proxy.fail((r) => r.path.startsWith('/v1/checkout/sessions/cs_test_while_stripe_fails'), 500);
    const stored = () => stack.app.billing.db.webhookEvent.findUnique({ where: { id: String(event.id) } });
    expect((await deliver(stack, JSON.stringify(event))).statusCode).toBe(200);
    const dead = await eventually(async () => {
      const r = await stored();
      return r?.status === 'dead' ? r : undefined;
    }, 20_000);
    expect(dead.attempts).toBe(2);
    expect(dead.lastError).toMatch(/injected by the test proxy|api_error|500/i);

    expect(await stack.app.billing.inbox.replay(String(event.id))).toBe(true);
    expect(await stack.app.billing.inbox.replay('evt_unknown')).toBe(false);
    // Stripe answers again (404: no such session): the replayed event ends orphaned, not dead.
    proxy.clear();
    const again = await eventually(async () => {
      const r = await stored();
      return r?.status === 'orphaned' ? r : undefined;
    }, 20_000);
    expect(again.attempts).toBe(3);
  });
});
