import type { ChangeCause, FeatureSet } from '@tollgate/contracts';
import { describe, expect, it } from 'vitest';
import type { EntitlementSource } from './derive.js';
import {
  accessOfState,
  purchaseGrants,
  refreshUserEntitlements,
  type UserEntitlementsStore,
  type VersionedEntitlements,
} from './user-entitlements.js';

const now = new Date('2026-12-04T00:00:00Z');

function fakeStore(sources: EntitlementSource[], current: VersionedEntitlements | null = null) {
  const saved: { next: VersionedEntitlements; previous: FeatureSet; cause: ChangeCause }[] = [];
  let locks = 0;
  const store: UserEntitlementsStore = {
    lock: async () => void locks++,
    sources: async () => sources,
    current: async () => saved.at(-1)?.next ?? current,
    save: async (_userId, next, change) => void saved.push({ next, ...change }),
  };
  return { store, saved, locks: () => locks };
}

const sub = (features: FeatureSet, role: string | null = 'premium'): EntitlementSource => ({
  type: 'subscription',
  id: 'sub_1',
  productId: 'prod_p',
  state: 'active',
  until: null,
  role,
  features,
});

describe('refreshUserEntitlements', () => {
  it('a first grant is version 1, recorded with its cause and the previous (empty) set', async () => {
    const { store, saved, locks } = fakeStore([sub({ hd: true })]);
    const outcome = await refreshUserEntitlements(
      store,
      'u1',
      { type: 'stripe_event', event_id: 'evt_1' },
      now,
    );
    expect(locks()).toBe(1);
    expect(outcome.changed).toBe(true);
    expect(saved).toEqual([
      {
        next: {
          version: 1,
          features: { hd: true },
          roles: ['premium'],
          sources: [
            {
              type: 'subscription',
              id: 'sub_1',
              product_id: 'prod_p',
              state: 'active',
              until: null,
              role: 'premium',
              features: { hd: true },
            },
          ],
        },
        previous: {},
        cause: { type: 'stripe_event', event_id: 'evt_1' },
      },
    ]);
  });

  it('the same derivation again changes nothing and bumps nothing', async () => {
    const { store, saved } = fakeStore([sub({ hd: true })]);
    await refreshUserEntitlements(store, 'u1', { type: 'stripe_event' }, now);
    const again = await refreshUserEntitlements(store, 'u1', { type: 'sync' }, now);
    expect(again).toMatchObject({ changed: false, entitlements: { version: 1 } });
    expect(saved).toHaveLength(1);
  });

  it('each change bumps the version by one (a shrink as well as a growth)', async () => {
    const sources = [sub({ hd: true, projects: 10 })];
    const { store, saved } = fakeStore(sources);
    await refreshUserEntitlements(store, 'u1', { type: 'stripe_event' }, now);
    sources.splice(0, 1, sub({ hd: true }));
    await refreshUserEntitlements(store, 'u1', { type: 'dunning' }, now);
    sources.splice(0, 1);
    await refreshUserEntitlements(store, 'u1', { type: 'stripe_event' }, now);
    expect(saved.map((s) => [s.next.version, s.next.features, s.previous, s.cause.type])).toEqual([
      [1, { hd: true, projects: 10 }, {}, 'stripe_event'],
      [2, { hd: true }, { hd: true, projects: 10 }, 'dunning'],
      [3, {}, { hd: true }, 'stripe_event'],
    ]);
  });

  it('a user who never had anything gets no row', async () => {
    const { store, saved } = fakeStore([sub({}, null)]);
    expect((await refreshUserEntitlements(store, 'u1', { type: 'sync' }, now)).changed).toBe(false);
    expect(saved).toEqual([]);
  });
});

describe('access and purchases', () => {
  it('active and past_due grant fully, restricted partly, anything else not at all', () => {
    expect(['active', 'past_due', 'restricted', 'revoked', 'inactive', null].map(accessOfState)).toEqual([
      'full',
      'full',
      'restricted',
      'none',
      'none',
      'none',
    ]);
  });
  it('a purchase grants while paid and not run out', () => {
    expect(purchaseGrants({ status: 'paid', expiresAt: null }, now)).toBe(true);
    expect(purchaseGrants({ status: 'paid', expiresAt: new Date(now.getTime() + 1) }, now)).toBe(true);
    expect(purchaseGrants({ status: 'paid', expiresAt: now }, now)).toBe(false);
    expect(purchaseGrants({ status: 'refunded', expiresAt: null }, now)).toBe(false);
  });
});
