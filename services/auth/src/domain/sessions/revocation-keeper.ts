/**
 * Keeps the revocation cache (Redis) in step with its record (Postgres):
 * - when the cache lost its data (no completeness marker), it copies every
 *   revocation still in force into it and sets the marker, so verifiers
 *   elsewhere trust it again;
 * - otherwise it publishes revocations whose Redis write failed when their
 *   session ended (a logout during a Redis blip), so they reach every
 *   verifier even if the client never retries.
 * Entitlement floors (rows of user_entitlements) are rebuilt and published
 * the same way. It runs in every auth replica; the work is idempotent, so replicas racing
 * each other only repeat writes. A failed round is logged and retried on the
 * next tick; it never throws out of the timer.
 */
import type { EntitlementsFloorEntry, RevocationCache, RevocationEntry } from '@tollgate/auth-client';
import type { EntitlementsRepository, FloorRow } from '../entitlements/entitlements.repository.js';
import type { Revocation, RevocationsRepository } from './revocations.repository.js';

export interface KeeperLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface RevocationKeeperDeps {
  revocations: Pick<RevocationsRepository, 'live' | 'unpublished' | 'markPublished' | 'prune'>;
  floors: Pick<EntitlementsRepository, 'liveFloors' | 'unpublishedFloors' | 'markFloorsPublished'>;
  cache: RevocationCache;
  log: KeeperLog;
  /** Time between rounds. */
  intervalMs: number;
  now?: () => Date;
}

export type KeeperRound =
  | { kind: 'rebuilt'; count: number }
  | { kind: 'rebuild_interrupted' }
  | { kind: 'published'; count: number }
  | { kind: 'idle' };

const PUBLISH_BATCH = 1_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Rows are kept a day past their end: enough to investigate, small enough to scan. */
const KEEP_EXPIRED_MS = 86_400_000;

function entries(rows: readonly Revocation[], now: Date): RevocationEntry[] {
  return rows.map((r) => ({
    sessionId: r.sessionId,
    ttlSeconds: (r.notAfter.getTime() - now.getTime()) / 1000,
  }));
}

function floorEntries(rows: readonly FloorRow[], now: Date): EntitlementsFloorEntry[] {
  return rows.map((r) => ({
    userId: r.userId,
    version: r.version,
    ttlSeconds: (r.floorUntil.getTime() - now.getTime()) / 1000,
  }));
}

export function createRevocationKeeper(deps: RevocationKeeperDeps) {
  const now = deps.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let failing = false;
  let lastPrune = 0;

  async function runOnce(): Promise<KeeperRound> {
    const at = now();
    if (!(await deps.cache.isComplete())) {
      const [live, floors] = await Promise.all([deps.revocations.live(at), deps.floors.liveFloors(at)]);
      if (!(await deps.cache.restore(entries(live, at), floorEntries(floors, at))))
        return { kind: 'rebuild_interrupted' };
      await deps.revocations.markPublished(live.map((r) => r.sessionId));
      await deps.floors.markFloorsPublished(floors);
      deps.log.info(
        { count: live.length, floors: floors.length },
        'rebuilt the revocation cache from the database',
      );
      return { kind: 'rebuilt', count: live.length + floors.length };
    }
    if (at.getTime() - lastPrune > PRUNE_EVERY_MS) {
      lastPrune = at.getTime();
      await deps.revocations.prune(new Date(at.getTime() - KEEP_EXPIRED_MS));
    }
    const [pending, pendingFloors] = await Promise.all([
      deps.revocations.unpublished(PUBLISH_BATCH, at),
      deps.floors.unpublishedFloors(PUBLISH_BATCH, at),
    ]);
    if (pending.length === 0 && pendingFloors.length === 0) return { kind: 'idle' };
    try {
      for (const floor of floorEntries(pendingFloors, at))
        await deps.cache.raiseEntitlementsFloor(floor.userId, floor.version, floor.ttlSeconds);
    } catch (error) {
      await deps.cache.invalidate().catch(() => {});
      throw error;
    }
    await deps.floors.markFloorsPublished(pendingFloors);
    if (pending.length === 0) {
      deps.log.info(
        { floors: pendingFloors.length },
        'published entitlement floors an earlier Redis write had missed',
      );
      return { kind: 'published', count: pendingFloors.length };
    }
    // One TTL for the batch: the longest any of them needs (a few minutes' excess is harmless).
    const ttl = Math.max(...entries(pending, at).map((e) => e.ttlSeconds));
    try {
      await deps.cache.revokeSessions(
        pending.map((r) => r.sessionId),
        ttl,
      );
    } catch (error) {
      // A cache that cannot take a revocation must not be trusted without it.
      await deps.cache.invalidate().catch(() => {});
      throw error;
    }
    await deps.revocations.markPublished(pending.map((r) => r.sessionId));
    deps.log.info({ count: pending.length }, 'published revocations an earlier Redis write had missed');
    return { kind: 'published', count: pending.length };
  }

  /** One round that never throws: failures are logged once per outage. */
  async function tick(): Promise<void> {
    try {
      await runOnce();
      if (failing) deps.log.info({}, 'revocation keeper recovered');
      failing = false;
    } catch (error) {
      if (!failing) deps.log.warn({ err: error }, 'revocation keeper round failed; retrying every interval');
      failing = true;
    }
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  }

  return {
    runOnce,
    /** Runs a first round now (awaited, so a fresh cache is rebuilt before serving), then every interval. */
    async start() {
      stopped = false;
      running = tick();
      await running;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type RevocationKeeper = ReturnType<typeof createRevocationKeeper>;
