/**
 * Ending sessions and publishing their revocations, on fakes of the
 * service's ports: the database record is written first, the publish may
 * fail, and a repeat (or the keeper) publishes what is still missing.
 */
import { createMemoryRevocationStore, type RevocationStore } from '@tollgate/auth-client';
import { describe, expect, it } from 'vitest';
import { type AuthServiceDeps, createAuthService } from './auth.service.js';
import { createRevocationKeeper } from './revocation-keeper.js';
import type { Revocation } from './revocations.repository.js';

/** Sessions and their revocation rows, as the two repositories keep them in Postgres. */
function fakeRecord() {
  const open = new Map<string, string>([
    ['s1', 'u1'],
    ['s2', 'u1'],
    ['s3', 'u2'],
  ]);
  const rows = new Map<string, Revocation & { userId: string; published: boolean }>();
  const matches = (id: string, filter: { only?: string; except?: string }) =>
    (!filter.only || id === filter.only) && (!filter.except || id !== filter.except);
  return {
    rows,
    sessions: {
      async end(userId: string, filter: { only?: string; except?: string }) {
        const ended = [...open]
          .filter(([id, owner]) => owner === userId && matches(id, filter))
          .map(([id]) => id);
        for (const id of ended) {
          open.delete(id);
          rows.set(id, { sessionId: id, userId, notAfter: new Date(Date.now() + 910_000), published: false });
        }
        return ended;
      },
    },
    revocations: {
      async ofUser(userId: string, filter: { only?: string; except?: string }) {
        return [...rows.values()].filter((r) => r.userId === userId && matches(r.sessionId, filter));
      },
      async live() {
        return [...rows.values()];
      },
      async unpublished() {
        return [...rows.values()].filter((r) => !r.published);
      },
      async markPublished(ids: readonly string[]) {
        for (const id of ids) {
          const row = rows.get(id);
          if (row) row.published = true;
        }
      },
      async prune() {
        return 0;
      },
    },
  };
}

const noFloors = {
  liveFloors: async () => [],
  unpublishedFloors: async () => [],
  markFloorsPublished: async () => {},
};

/** A store whose writes fail while `down` is set. */
function flakyStore() {
  const inner = createMemoryRevocationStore();
  const state = { down: false, writes: [] as string[][] };
  const store: RevocationStore = {
    isSessionRevoked: (id) => inner.isSessionRevoked(id),
    entitlementsFloor: (userId) => inner.entitlementsFloor(userId),
    raiseEntitlementsFloor: (userId, version, ttl) => inner.raiseEntitlementsFloor(userId, version, ttl),
    async revokeSessions(ids, ttl) {
      if (state.down) throw new Error('Command timed out');
      state.writes.push([...ids]);
      await inner.revokeSessions(ids, ttl);
    },
  };
  return { store, inner, state };
}

function serviceWith(
  record: ReturnType<typeof fakeRecord>,
  revocation: RevocationStore,
  failures: string[][],
) {
  const unused = {} as never;
  const deps: AuthServiceDeps = {
    users: unused,
    loginHistory: unused,
    hasher: unused,
    lockout: unused,
    tokens: unused,
    entitlements: unused,
    sessions: record.sessions as never,
    revocations: record.revocations,
    revocation,
    onPublishFailed: (_error, ids) => {
      failures.push([...ids]);
    },
    accessTtlSeconds: 900,
    refreshTtlSeconds: 3600,
  };
  return createAuthService(deps);
}

describe('logout and logout-all publish revocations retry-safely', () => {
  it('a logout whose publish fails still ends the session; repeating it publishes the revocation', async () => {
    const record = fakeRecord();
    const { store, state } = flakyStore();
    const failures: string[][] = [];
    const auth = serviceWith(record, store, failures);

    state.down = true;
    expect(await auth.logout('u1', 's1')).toEqual(['s1']);
    expect(failures).toEqual([['s1']]);
    expect(record.rows.get('s1')?.published).toBe(false);

    state.down = false;
    // The session had already ended, so nothing new ends: before, nothing was written either.
    expect(await auth.logout('u1', 's1')).toEqual([]);
    expect(state.writes).toEqual([['s1']]);
    expect(record.rows.get('s1')?.published).toBe(true);
  });

  it('a repeated logout-all publishes every revocation of the user, and only theirs', async () => {
    const record = fakeRecord();
    const { store, state } = flakyStore();
    const auth = serviceWith(record, store, []);
    await auth.logoutAll('u2');
    state.down = true;
    await auth.logoutAll('u1');
    state.down = false;
    await auth.logoutAll('u1');
    expect(state.writes.at(-1)?.sort()).toEqual(['s1', 's2']);
  });

  it('without a repeat, the keeper publishes what a failed write missed', async () => {
    const record = fakeRecord();
    const { store, inner, state } = flakyStore();
    await inner.restore([]);
    const auth = serviceWith(record, store, []);
    state.down = true;
    await auth.logout('u1', 's2');
    state.down = false;
    const logs: string[] = [];
    const keeper = createRevocationKeeper({
      revocations: record.revocations,
      floors: noFloors,
      cache: inner,
      intervalMs: 1_000,
      log: { info: (_d, m) => logs.push(m), warn: (_d, m) => logs.push(m) },
    });
    expect(await keeper.runOnce()).toEqual({ kind: 'published', count: 1 });
    expect(await inner.isSessionRevoked('s2')).toBe(true);
    expect(await keeper.runOnce()).toEqual({ kind: 'idle' });
  });

  it('the keeper rebuilds an emptied cache from the record before it is trusted again', async () => {
    const record = fakeRecord();
    const cache = createMemoryRevocationStore();
    const auth = serviceWith(record, cache, []);
    await auth.logout('u1', 's1'); // published into a cache that is not whole yet
    await cache.invalidate();
    const fresh = createMemoryRevocationStore(); // Redis restarted empty
    const keeper = createRevocationKeeper({
      revocations: record.revocations,
      floors: noFloors,
      cache: fresh,
      intervalMs: 1_000,
      log: { info: () => {}, warn: () => {} },
    });
    await expect(fresh.isSessionRevoked('s2')).rejects.toThrow();
    expect(await keeper.runOnce()).toEqual({ kind: 'rebuilt', count: 1 });
    expect(await fresh.isSessionRevoked('s1')).toBe(true);
    expect(await fresh.isSessionRevoked('s2')).toBe(false);
  });
});
