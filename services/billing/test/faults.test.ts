import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  rolesInAuth,
  type Stack,
  sleep,
  startStack,
  subscribe,
} from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function emulatorConfig(body: Record<string, unknown>) {
  const response = await fetch(`${stack.emu.url}/_emulator/config`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.emu.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`emulator config: ${response.status} ${await response.text()}`);
}

describe('delivery faults', () => {
  it('duplicated and shuffled deliveries end in the right state with one grant', async () => {
    await emulatorConfig({ duplicate_rate: 1, shuffle: true });
    try {
      const user = await newUser(stack);
      await subscribe(stack, user, PREMIUM_MONTHLY);
      await stack.emu.waitForWebhooks();
      await eventually(async () => ((await rolesInAuth(stack, user)).includes('premium') ? true : undefined));
      const live = await stack.app.billing.subscriptions.findLive(user.id);
      expect(live).toMatchObject({ status: 'active', entitledRole: 'premium' });
      // Every event was delivered twice but stored once.
      const deliveries = await fetch(`${stack.emu.url}/_emulator/deliveries?wait_ms=2000`, {
        headers: { authorization: `Bearer ${stack.emu.apiKey}` },
      }).then((r) => r.json() as Promise<{ data: { event_id?: string; event?: string }[] }>);
      expect(deliveries.data.length).toBeGreaterThan(0);
      const eventIds = await stack.app.billing.db.webhookEvent.findMany({
        where: { objectId: live!.id },
        select: { id: true },
      });
      expect(new Set(eventIds.map((e) => e.id)).size).toBe(eventIds.length);
      await eventually(async () =>
        (await stack.app.billing.db.webhookEvent.count({
          where: { status: { in: ['pending', 'failed'] } },
        })) === 0
          ? true
          : undefined,
      );
      const syncs = await stack.app.billing.db.roleSync.findMany({ where: { subscriptionId: live!.id } });
      expect(syncs.map((s) => [s.action, s.role])).toEqual([['grant', 'premium']]);
      expect(await rolesInAuth(stack, user)).toEqual(['premium']);
    } finally {
      await emulatorConfig({ duplicate_rate: 0, shuffle: false });
    }
  });
});

describe('auth outage', () => {
  it('a grant due while auth is down arrives after auth comes back', async () => {
    const user = await newUser(stack);
    // Billing has auth's signing keys cached from this call; users keep working during the outage.
    await stack.app.inject({ method: 'POST', url: '/api/v1/customer', headers: bearer(user) });
    await stack.auth.stop();
    try {
      await subscribe(stack, user, PREMIUM_MONTHLY);
      const failing = await eventually(async () => {
        const row = await stack.app.billing.db.roleSync.findFirst({ where: { userId: user.id } });
        return row?.status === 'retrying' && row.attempts >= 2 ? row : undefined;
      }, 30_000);
      expect(failing.lastError).toMatch(/auth unreachable/);
      await sleep(1500);
    } finally {
      await stack.auth.start();
    }
    await eventually(
      async () => ((await rolesInAuth(stack, user)).includes('premium') ? true : undefined),
      30_000,
    );
    // The row is marked after auth answered: it may trail the role by a moment.
    const done = await eventually(async () => {
      const row = await stack.app.billing.db.roleSync.findFirstOrThrow({ where: { userId: user.id } });
      return row.status === 'succeeded' ? row : undefined;
    });
    expect(done).toMatchObject({ status: 'succeeded', appliedAction: 'grant', lastError: null });
    expect(done.attempts).toBeGreaterThanOrEqual(3);
  });
});

describe('several subscriptions', () => {
  it('a role is revoked only when no other live subscription of the user grants it', async () => {
    const user = await newUser(stack);
    await subscribe(stack, user, PREMIUM_MONTHLY);
    await eventually(async () => ((await rolesInAuth(stack, user)).includes('premium') ? true : undefined));
    const first = await stack.app.billing.subscriptions.findLive(user.id);
    // A second premium subscription made outside our API (e.g. by support in the dashboard).
    const pm = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: first!.customerId });
    const second = await stack.stripe.subscriptions.create({
      customer: first!.customerId,
      items: [{ price: PREMIUM_MONTHLY }],
      default_payment_method: pm.id,
    });
    await stack.emu.waitForWebhooks();
    await eventually(async () => {
      const row = await stack.app.billing.db.subscription.findUnique({ where: { id: second.id } });
      return row?.entitledRole === 'premium' ? row : undefined;
    });
    await stack.stripe.subscriptions.cancel(first!.id);
    await stack.emu.waitForWebhooks();
    await eventually(async () => {
      const syncs = await stack.app.billing.db.roleSync.findMany({
        where: { subscriptionId: first!.id, action: 'revoke', status: 'succeeded' },
      });
      return syncs.length === 1 ? syncs : undefined;
    });
    expect(await rolesInAuth(stack, user)).toEqual(['premium']);
    await stack.stripe.subscriptions.cancel(second.id);
    await stack.emu.waitForWebhooks();
    await eventually(async () => ((await rolesInAuth(stack, user)).length === 0 ? true : undefined));
  });
});
