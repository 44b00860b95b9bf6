import type { ChangeCause } from '@tollgate/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DUNNING_POLICY, type DunningPolicy } from '../dunning/dunning.js';
import type { RoleChange } from '../entitlements/entitlement.js';
import {
  type ApplyInput,
  type ApplyPorts,
  applySubscription,
  type StoredSubscription,
  type SubscriptionFields,
  type SubscriptionRow,
} from './apply-subscription.js';

const now = new Date('2026-12-04T00:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

/** The apply step's ports over plain maps: what was saved, enqueued and refreshed. */
function fakePorts(stored: Record<string, StoredSubscription> = {}) {
  const rows = new Map<string, StoredSubscription | SubscriptionRow>(Object.entries(stored));
  const roleSyncs: { userId: string; change: RoleChange }[] = [];
  const roleSyncCauses: ChangeCause[] = [];
  const refreshed: { userId: string; cause: ChangeCause }[] = [];
  const ports: ApplyPorts = {
    find: async (id) => rows.get(id) ?? null,
    save: async (id, row) => void rows.set(id, row),
    enqueueRoleSync: async ({ userId, change, cause }) => {
      roleSyncs.push({ userId, change });
      roleSyncCauses.push(cause);
    },
    refreshEntitlements: async (userId, cause) => void refreshed.push({ userId, cause }),
  };
  return { ports, rows, roleSyncs, roleSyncCauses, refreshed };
}

function fields(status: string): SubscriptionFields {
  return {
    status,
    priceId: 'price_p',
    productId: 'prod_p',
    cancelAtPeriodEnd: false,
    cancelAt: null,
    canceledAt: null,
    endedAt: null,
    currentPeriodStart: now,
    currentPeriodEnd: days(30),
    stripeCreatedAt: now,
    raw: {},
  } as SubscriptionFields;
}

function input(status: string, over: Partial<ApplyInput> = {}): ApplyInput {
  return {
    subscriptionId: 'sub_1',
    fields: fields(status),
    customerId: 'cus_1',
    userId: 'user-1',
    role: 'premium',
    ticket: 10,
    now,
    policy: DEFAULT_DUNNING_POLICY,
    cause: { type: 'stripe_event', event_id: 'evt_1', event_type: 'customer.subscription.updated' },
    ...over,
  };
}

const stored = (over: Partial<StoredSubscription> = {}): StoredSubscription => ({
  userId: 'user-1',
  fetchSeq: 5,
  pastDueSince: null,
  entitledRole: 'premium',
  entitlementExpiresAt: null,
  ...over,
});

describe('applySubscription', () => {
  it('a new active subscription: row with its dunning state, one grant, entitlements re-derived with the cause', async () => {
    const { ports, rows, roleSyncs, roleSyncCauses, refreshed } = fakePorts();
    const result = await applySubscription(ports, input('active'));
    expect(result).toEqual({ subscriptionId: 'sub_1', status: 'active', userId: 'user-1', changes: 1 });
    expect(rows.get('sub_1')).toMatchObject({
      entitledRole: 'premium',
      dunningState: 'active',
      dunningNextStepAt: null,
      fetchSeq: 10,
    });
    expect(roleSyncs).toEqual([
      { userId: 'user-1', change: { role: 'premium', action: 'grant', expiresAt: null } },
    ]);
    // The grant carries the same cause into the outbox (role_syncs.cause, audit_log) and to auth.
    expect(roleSyncCauses).toEqual([refreshed[0]?.cause]);
    expect(refreshed).toEqual([
      {
        userId: 'user-1',
        cause: {
          type: 'stripe_event',
          event_id: 'evt_1',
          event_type: 'customer.subscription.updated',
          subscription_id: 'sub_1',
        },
      },
    ]);
  });

  it('an older fetch than the stored one changes nothing (reordered events)', async () => {
    const { ports, rows, roleSyncs, refreshed } = fakePorts({ sub_1: stored({ fetchSeq: 20 }) });
    const result = await applySubscription(ports, input('canceled', { ticket: 10 }));
    expect(result.stale).toBe(true);
    expect(rows.get('sub_1')).toMatchObject({ fetchSeq: 20, entitledRole: 'premium' });
    expect(roleSyncs).toEqual([]);
    expect(refreshed).toEqual([]);
  });

  it('past_due keeps the role with the next dunning step as its expiry, counted from the first sight', async () => {
    const since = days(-2);
    const { ports, rows, roleSyncs } = fakePorts({ sub_1: stored({ pastDueSince: since }) });
    await applySubscription(ports, input('past_due'));
    expect(rows.get('sub_1')).toMatchObject({
      pastDueSince: since,
      dunningState: 'past_due',
      dunningNextState: 'revoked',
      dunningNextStepAt: days(12),
    });
    expect(roleSyncs).toEqual([
      { userId: 'user-1', change: { role: 'premium', action: 'grant', expiresAt: days(12) } },
    ]);
  });

  it('the restricted step swaps the role for the configured one', async () => {
    const policy: DunningPolicy = {
      pastDueDays: 10,
      restrictAfterDays: 1,
      restricted: { features: {}, role: 'subscriber' },
    };
    const { ports, roleSyncs } = fakePorts({ sub_1: stored({ pastDueSince: days(-2) }) });
    await applySubscription(ports, input('past_due', { policy }));
    expect(roleSyncs.map((r) => [r.change.role, r.change.action])).toEqual([
      ['premium', 'revoke'],
      ['subscriber', 'grant'],
    ]);
  });

  it('canceled revokes; an unmapped customer keeps the previous user, who is the one refreshed', async () => {
    const { ports, roleSyncs, refreshed } = fakePorts({ sub_1: stored() });
    const result = await applySubscription(ports, input('canceled', { userId: null }));
    expect(result.userId).toBe('user-1');
    expect(roleSyncs).toEqual([
      { userId: 'user-1', change: { role: 'premium', action: 'revoke', expiresAt: null } },
    ]);
    expect(refreshed.map((r) => r.userId)).toEqual(['user-1']);
  });

  it('a subscription that moved to another user refreshes both users', async () => {
    const { ports, refreshed } = fakePorts({ sub_1: stored({ userId: 'user-old' }) });
    await applySubscription(ports, input('active', { userId: 'user-new' }));
    expect(refreshed.map((r) => r.userId)).toEqual(['user-new', 'user-old']);
  });

  it('nobody to grant to: stored, no role, nothing refreshed', async () => {
    const { ports, rows, roleSyncs, refreshed } = fakePorts();
    const result = await applySubscription(ports, input('active', { userId: null }));
    expect(result).toMatchObject({ userId: null, changes: 0 });
    expect(rows.get('sub_1')).toMatchObject({ entitledRole: null, dunningState: 'active' });
    expect(roleSyncs).toEqual([]);
    expect(refreshed).toEqual([]);
  });
});
