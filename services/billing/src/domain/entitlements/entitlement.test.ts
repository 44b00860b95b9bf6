import { describe, expect, it } from 'vitest';
import { DEFAULT_DUNNING_POLICY, type DunningPolicy } from '../dunning/dunning.js';
import { entitlementChanges, entitlementOf } from './entitlement.js';

const policy3: DunningPolicy = { ...DEFAULT_DUNNING_POLICY, pastDueDays: 3 };
const restricting: DunningPolicy = {
  pastDueDays: 3,
  restrictAfterDays: 1,
  restricted: { features: { catalog_sd: true }, role: 'subscriber' },
};

const now = new Date('2026-11-27T12:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

describe('entitlementOf', () => {
  it('grants the product role while active or trialing', () => {
    expect(
      entitlementOf({ status: 'active', role: 'premium', pastDueSince: null }, now, policy3),
    ).toMatchObject({
      role: 'premium',
      expiresAt: null,
    });
    expect(
      entitlementOf({ status: 'trialing', role: 'premium', pastDueSince: null }, now, policy3).role,
    ).toBe('premium');
  });

  it('keeps it through the grace period while past_due, with the grace end as expiry', () => {
    const since = days(-1);
    expect(
      entitlementOf({ status: 'past_due', role: 'premium', pastDueSince: since }, now, policy3),
    ).toMatchObject({
      role: 'premium',
      expiresAt: days(2),
    });
    expect(
      entitlementOf({ status: 'past_due', role: 'premium', pastDueSince: days(-3) }, now, policy3).role,
    ).toBe(null);
  });

  it('revokes for canceled, unpaid, incomplete_expired, and when the product grants nothing', () => {
    for (const status of ['canceled', 'unpaid', 'incomplete_expired', 'incomplete']) {
      expect(entitlementOf({ status, role: 'premium', pastDueSince: null }, now, policy3).role).toBe(null);
    }
    expect(entitlementOf({ status: 'active', role: null, pastDueSince: null }, now, policy3).role).toBe(null);
  });

  it('swaps to the restricted role in the restricted step, expiring when it is revoked', () => {
    const input = { status: 'past_due', role: 'premium', pastDueSince: days(-1.5) };
    expect(entitlementOf(input, now, restricting)).toMatchObject({
      role: 'subscriber',
      expiresAt: days(1.5),
      dunning: { state: 'restricted' },
    });
  });
});

describe('entitlementChanges', () => {
  const none = { role: null, expiresAt: null };
  const premium = { role: 'premium', expiresAt: null };
  it('grants a new role, revokes a lost one, and does nothing when nothing changed', () => {
    expect(entitlementChanges(none, premium)).toEqual([
      { role: 'premium', action: 'grant', expiresAt: null },
    ]);
    expect(entitlementChanges(premium, none)).toEqual([
      { role: 'premium', action: 'revoke', expiresAt: null },
    ]);
    expect(entitlementChanges(premium, { role: 'premium', expiresAt: null })).toEqual([]);
  });
  it('on a plan change revokes the old role and grants the new one', () => {
    expect(entitlementChanges({ role: 'subscriber', expiresAt: null }, premium)).toEqual([
      { role: 'subscriber', action: 'revoke', expiresAt: null },
      { role: 'premium', action: 'grant', expiresAt: null },
    ]);
  });
  it('re-grants with an expiry when the grace period starts', () => {
    expect(entitlementChanges(premium, { role: 'premium', expiresAt: days(3) })).toEqual([
      { role: 'premium', action: 'grant', expiresAt: days(3) },
    ]);
  });
});
