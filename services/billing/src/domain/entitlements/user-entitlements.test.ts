import type { ChangeCause, FeatureSet } from '@tollgate/contracts';
import { describe, expect, it } from 'vitest';
import type { Sql } from '../../db/prisma.js';
import type { EntitlementSource } from './derive.js';
import {
  accessOfState,
  createEntitlementsReader,
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

describe('the entitlements reader', () => {
  const ALICE = '0b5f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
  const BOB = '1c6a8b4f-2d3e-4f60-9bac-1d2e3f4a5b6c';
  /** A pool stand-in holding rows by user id; records each query's ids. */
  function fakeSql(rows: Record<string, { version: number; features: FeatureSet }>, fail = false) {
    const queries: string[][] = [];
    const sql = {
      async query({ values }: { values: [string[]] }) {
        queries.push(values[0]);
        if (fail) throw new Error('connection reset');
        return {
          rows: values[0]
            .filter((id) => rows[id])
            .map((id) => ({ user_id: id, roles: [], sources: [], ...rows[id] })),
        };
      },
    } as unknown as Sql;
    return { sql, queries };
  }

  it('reads arriving together share one query; each gets its own user', async () => {
    const { sql, queries } = fakeSql({ [ALICE]: { version: 3, features: { projects: 5, hd: true } } });
    const reader = createEntitlementsReader({ sql });
    const [alice, bob, again] = await Promise.all([
      reader.forUser(ALICE),
      reader.forUser(BOB),
      reader.check(ALICE, 'projects'),
    ]);
    expect(queries).toEqual([[ALICE, BOB]]);
    expect(alice).toMatchObject({ version: 3, features: { hd: true, projects: 5 } });
    expect(Object.keys(alice.features)).toEqual(['hd', 'projects']);
    expect(bob).toEqual({ version: 0, features: {}, roles: [], sources: [] });
    expect(again).toEqual({ allowed: true, limit: 5 });
    // A later read queries again: nothing is kept between turns.
    await reader.forUser(ALICE);
    expect(queries).toHaveLength(2);
  });

  it('grants only features the row holds, not names an object inherits', async () => {
    const { sql } = fakeSql({ [ALICE]: { version: 1, features: { hd: true } } });
    const reader = createEntitlementsReader({ sql });
    expect(await reader.check(ALICE, 'hd')).toEqual({ allowed: true, limit: null });
    expect(await reader.check(ALICE, 'constructor')).toEqual({ allowed: false, limit: null });
    expect(await reader.check(BOB, 'hd')).toEqual({ allowed: false, limit: null });
  });

  it('a failed query fails every read that shared it; an id that is no uuid is not sent', async () => {
    const { sql, queries } = fakeSql({}, true);
    const reader = createEntitlementsReader({ sql });
    const reads = [reader.forUser(ALICE), reader.forUser(BOB)];
    for (const read of reads) await expect(read).rejects.toThrow('connection reset');
    expect(await reader.forUser("x' OR 1=1")).toMatchObject({ version: 0 });
    expect(queries).toEqual([[ALICE, BOB]]);
  });
});
