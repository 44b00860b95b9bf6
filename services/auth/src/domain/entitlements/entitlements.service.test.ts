/**
 * Entitlement pushes on fakes of the service's ports: versions only move
 * forward, a shrink raises the floor in the store, and a floor whose publish
 * failed reaches the store through the revocation keeper.
 */
import { createMemoryRevocationStore } from '@tollgate/auth-client';
import { type EntitlementsSyncBody, entitlementsShrank, type FeatureSet } from '@tollgate/contracts';
import { describe, expect, it } from 'vitest';
import { createRevocationKeeper } from '../sessions/revocation-keeper.js';
import type { FloorRow, PushOutcome } from './entitlements.repository.js';
import { createEntitlementsService } from './entitlements.service.js';

/** user_entitlements as the repository keeps it. */
function fakeRepository() {
  const rows = new Map<
    string,
    { version: number; features: FeatureSet; floor: number; until: Date | null; published: boolean }
  >();
  const floorRows = (filter: (r: { published: boolean }) => boolean): FloorRow[] =>
    [...rows]
      .filter(([, r]) => r.until !== null && filter(r))
      .map(([userId, r]) => ({ userId, version: r.floor, floorUntil: r.until as Date }));
  return {
    rows,
    async apply(
      userId: string,
      push: EntitlementsSyncBody,
      _actor: string,
      floorUntil: Date,
    ): Promise<PushOutcome> {
      const held = rows.get(userId) ?? { version: 0, features: {}, floor: 0, until: null, published: true };
      if (push.version <= held.version) return { applied: false, heldVersion: held.version };
      const shrank = entitlementsShrank(held.features, push.features);
      rows.set(userId, {
        version: push.version,
        features: push.features,
        ...(shrank
          ? { floor: push.version, until: floorUntil, published: false }
          : { floor: held.floor, until: held.until, published: held.published }),
      });
      return { applied: true, shrank, floorUntil: shrank ? floorUntil : null };
    },
    async markFloorsPublished(floors: readonly { userId: string; version: number }[]) {
      for (const f of floors) {
        const row = rows.get(f.userId);
        if (row && row.floor === f.version) row.published = true;
      }
    },
    liveFloors: async () => floorRows(() => true),
    unpublishedFloors: async () => floorRows((r) => !r.published),
  };
}

const push = (version: number, features: FeatureSet): EntitlementsSyncBody => ({
  version,
  features,
  cause: { type: 'stripe_event', event_id: `evt_${version}` },
});

async function setUp() {
  const repository = fakeRepository();
  const store = createMemoryRevocationStore();
  await store.restore([]);
  const state = { down: false, failures: [] as string[] };
  const service = createEntitlementsService({
    entitlements: repository,
    userExists: async (id) => id !== 'ghost',
    revocation: {
      async raiseEntitlementsFloor(userId, version, ttl) {
        if (state.down) throw new Error('Command timed out');
        await store.raiseEntitlementsFloor(userId, version, ttl);
      },
    },
    onPublishFailed: (_error, userId) => {
      state.failures.push(userId);
    },
    floorTtlSeconds: 910,
  });
  return { repository, store, state, service };
}

describe('entitlement pushes', () => {
  it('apply newer versions only, and raise the floor only when something was taken away', async () => {
    const { service, store, repository } = await setUp();
    expect(await service.push('u', push(1, { hd: true, projects: 10 }), 'billing')).toBe('applied');
    expect(await store.entitlementsFloor('u')).toBe(0);
    expect(await service.push('u', push(2, { hd: true, projects: 20 }), 'billing')).toBe('applied');
    expect(await store.entitlementsFloor('u')).toBe(0);
    expect(await service.push('u', push(3, { projects: 20 }), 'billing')).toBe('applied_shrunk');
    expect(await store.entitlementsFloor('u')).toBe(3);
    expect(repository.rows.get('u')?.published).toBe(true);
    // A late delivery of an older version changes nothing, even one with more features.
    expect(await service.push('u', push(2, { hd: true, projects: 20 }), 'billing')).toBe('stale');
    expect(await service.push('u', push(3, { projects: 20 }), 'billing')).toBe('stale');
    expect(repository.rows.get('u')?.features).toEqual({ projects: 20 });
  });

  it('refuses a push for a user auth does not know', async () => {
    const { service } = await setUp();
    await expect(service.push('ghost', push(1, {}), 'billing')).rejects.toMatchObject({
      status: 404,
      code: 'user_not_found',
    });
  });

  it('a floor whose publish failed is still recorded, and the keeper publishes it', async () => {
    const { service, store, state, repository } = await setUp();
    await service.push('u', push(1, { hd: true }), 'billing');
    state.down = true;
    expect(await service.push('u', push(2, {}), 'billing')).toBe('applied_shrunk');
    expect(state.failures).toEqual(['u']);
    expect(await store.entitlementsFloor('u')).toBe(0);
    expect(repository.rows.get('u')).toMatchObject({ floor: 2, published: false });

    const keeper = createRevocationKeeper({
      revocations: {
        live: async () => [],
        unpublished: async () => [],
        markPublished: async () => {},
        prune: async () => 0,
      },
      floors: repository,
      cache: store,
      intervalMs: 1_000,
      log: { info: () => {}, warn: () => {} },
    });
    expect(await keeper.runOnce()).toEqual({ kind: 'published', count: 1 });
    expect(await store.entitlementsFloor('u')).toBe(2);
    expect(await keeper.runOnce()).toEqual({ kind: 'idle' });

    // Redis restarted empty: the rebuild brings the floor back before the cache is trusted.
    const fresh = createMemoryRevocationStore();
    const rebuilder = createRevocationKeeper({
      revocations: {
        live: async () => [],
        unpublished: async () => [],
        markPublished: async () => {},
        prune: async () => 0,
      },
      floors: repository,
      cache: fresh,
      intervalMs: 1_000,
      log: { info: () => {}, warn: () => {} },
    });
    await expect(fresh.entitlementsFloor('u')).rejects.toThrow();
    expect(await rebuilder.runOnce()).toEqual({ kind: 'rebuilt', count: 1 });
    expect(await fresh.entitlementsFloor('u')).toBe(2);
  });
});
