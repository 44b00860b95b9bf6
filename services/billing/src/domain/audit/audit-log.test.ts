import { describe, expect, it } from 'vitest';
import { causeFromReason, createAuditLog, type HistoryEntry, mergeHistory } from './audit-log.js';

const billingEntry = (at: string, action = 'role_grant'): HistoryEntry => ({
  at,
  service: 'billing',
  action,
  role: 'premium',
  subscription_id: 'sub_1',
  source: null,
  actor: null,
  cause: { type: 'stripe_event', event_id: 'evt_1' },
  details: null,
});

describe('mergeHistory', () => {
  it('interleaves both services newest first, auth’s application before billing’s decision at the same instant', () => {
    const merged = mergeHistory(
      [billingEntry('2026-12-04T10:00:00.000Z'), billingEntry('2026-12-04T08:00:00.000Z', 'role_revoke')],
      [
        {
          id: 'a1',
          at: '2026-12-04T10:00:00.000Z',
          action: 'role_granted',
          role: 'premium',
          source: 'subscription:sub_1',
          actor: 'billing',
          cause: { type: 'stripe_event', subscription_id: 'sub_1' },
          details: null,
        },
        {
          id: 'a2',
          at: '2026-12-04T09:00:00.000Z',
          action: 'entitlements_changed',
          role: null,
          source: null,
          actor: 'billing',
          cause: null,
          details: { version: 3 },
        },
      ],
      3,
    );
    expect(merged.map((e) => `${e.service}:${e.action}`)).toEqual([
      'auth:role_granted',
      'billing:role_grant',
      'auth:entitlements_changed',
    ]);
    expect(merged[0]?.subscription_id).toBe('sub_1');
  });
});

describe('causeFromReason', () => {
  it('names the kind of change an outbox write without a cause came from', () => {
    expect(causeFromReason('reconcile: missing in auth', 'sub_1')).toEqual({
      type: 'reconcile',
      subscription_id: 'sub_1',
      detail: 'reconcile: missing in auth',
    });
    expect(causeFromReason('sync-stripe: subscription active', 'sub_1').type).toBe('sync');
    expect(causeFromReason('subscription past_due', 'sub_1')).toEqual({
      type: 'subscription_change',
      subscription_id: 'sub_1',
      detail: 'subscription past_due',
    });
    expect(causeFromReason(undefined, 'sub_1')).toEqual({
      type: 'subscription_change',
      subscription_id: 'sub_1',
    });
  });
});

describe('historyOf', () => {
  it('answers with billing’s side and auth_included false when auth fails, and reports the failure', async () => {
    const failures: unknown[] = [];
    const rows = [
      {
        id: 'b1',
        userId: 'u',
        at: new Date('2026-12-04T10:00:00Z'),
        action: 'role_revoke',
        role: 'premium',
        subscriptionId: 'sub_1',
        outboxId: 'o1',
        cause: { type: 'refund', event_id: 'evt_r' },
        details: null,
      },
    ];
    const log = createAuditLog({
      db: { auditEntry: { findMany: async () => rows } } as never,
      authHistory: async () => {
        throw new Error('auth unreachable');
      },
      onAuthFailed: (error) => failures.push(error),
    });
    const history = await log.historyOf('u', 10);
    expect(history.auth_included).toBe(false);
    expect(history.data).toEqual([
      expect.objectContaining({
        service: 'billing',
        action: 'role_revoke',
        cause: { type: 'refund', event_id: 'evt_r' },
        details: { outbox_id: 'o1' },
      }),
    ]);
    expect(failures).toHaveLength(1);
  });
});
