/**
 * Session revocation. Auth's database is the record of which sessions ended
 * (architecture/decisions/0010-redis-faults.md); Redis holds a cache of it that
 * every verifier reads: `revoked-session:<sid>` per ended session, plus one
 * marker key, `revocations:complete`, that auth writes only after it copied
 * every live revocation from its database into Redis. A Redis that lost its
 * data (restart without persistence, failover to an empty replica, FLUSHALL)
 * has no marker, so a verifier can tell "not revoked" from "I don't know" and
 * never lets a logged-out token back in: it asks an authority (auth asks its
 * database) or refuses with 503 until auth has rebuilt the cache.
 *
 * The same store carries entitlement floors (architecture/decisions/0018-entitlements-in-tokens.md):
 * `entitlements-floor:<userId>` = the lowest `ent` version a token of that
 * user must carry, set when the user's entitlements shrank, for as long as a
 * token with an older version may be unexpired. It obeys the same marker and
 * the same fail-closed rules as revocations.
 */
import { type CircuitBreakerPolicy, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';

/** The subset of an ioredis client this module needs (its keyPrefix, if any, applies). */
export interface RedisLike {
  mget(...keys: string[]): Promise<(string | null)[]>;
  get(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** The store cannot say whether a session was revoked (Redis unreachable, or its copy incomplete). */
export class RevocationUnavailableError extends Error {
  override name = 'RevocationUnavailableError';
  constructor(
    message: string,
    /** When asking again is worth it, in seconds. */
    readonly retryAfterSeconds = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RevocationStore {
  /** Whether the session was ended; throws RevocationUnavailableError when it cannot tell. */
  isSessionRevoked(sessionId: string): Promise<boolean>;
  revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
  /**
   * The lowest entitlements version (`ent.v`) a token of this user must
   * carry; 0 when none is required. Throws RevocationUnavailableError when it cannot tell.
   */
  entitlementsFloor(userId: string): Promise<number>;
  /** Raises the user's floor to `version` (never lowers it) for `ttlSeconds`. */
  raiseEntitlementsFloor(userId: string, version: number, ttlSeconds: number): Promise<void>;
}

export interface EntitlementsFloorEntry {
  userId: string;
  version: number;
  /** How long the floor must last: until every token with an older version has expired. */
  ttlSeconds: number;
}

export interface RevocationEntry {
  sessionId: string;
  /** How long the revocation must last: until the session's last access token has expired. */
  ttlSeconds: number;
}

/** The writer's side of the cache (auth): rebuild it from the database and say whether it is whole. */
export interface RevocationCache extends RevocationStore {
  /** Whether the cache holds every revocation (its completeness marker is present). */
  isComplete(): Promise<boolean>;
  /**
   * Writes every entry (revocations and entitlement floors), then the
   * completeness marker, unless the cache was emptied again meanwhile (then
   * returns false and the caller tries again).
   */
  restore(entries: readonly RevocationEntry[], floors?: readonly EntitlementsFloorEntry[]): Promise<boolean>;
  /**
   * Declares the cache incomplete (removes the marker): what a writer does
   * when it could not publish a revocation, so verifiers stop trusting a
   * cache that lacks it until it has been rebuilt.
   */
  invalidate(): Promise<void>;
}

export function revokedSessionKey(sessionId: string): string {
  return `revoked-session:${sessionId}`;
}
export function entitlementsFloorKey(userId: string): string {
  return `entitlements-floor:${userId}`;
}
export const REVOCATIONS_COMPLETE_KEY = 'revocations:complete';
const REVOCATIONS_REBUILD_KEY = 'revocations:rebuild';

// KEYS[1] rebuild guard, KEYS[2] completeness marker; ARGV[1] this rebuild's nonce.
// The guard was set before the entries were written: if it is gone, Redis was
// emptied during the rebuild and some entries may be missing with it.
const COMPLETE_REBUILD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

// KEYS[1] the user's floor; ARGV[1] version, ARGV[2] ttl seconds. A floor
// only rises: a late or repeated write of an older floor changes nothing.
const RAISE_FLOOR = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted >= current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
`;

const WRITE_BATCH = 500;

export interface RedisRevocationOptions {
  /**
   * Stops calling Redis after repeated failures, so an outage costs each
   * request nothing rather than a command timeout (default: opens after 5
   * consecutive failures, tries again after 1 s).
   */
  breaker?: CircuitBreakerPolicy;
}

export function createRedisBreaker(options: { failures?: number; halfOpenAfterMs?: number } = {}) {
  return circuitBreaker(handleAll, {
    halfOpenAfter: options.halfOpenAfterMs ?? 1_000,
    breaker: new ConsecutiveBreaker(options.failures ?? 5),
  });
}

export function createRedisRevocationStore(
  redis: RedisLike,
  options: RedisRevocationOptions = {},
): RevocationCache {
  const breaker = options.breaker ?? createRedisBreaker();

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await breaker.execute(fn);
    } catch (error) {
      throw new RevocationUnavailableError(`revocation store unavailable (${what})`, 1, { cause: error });
    }
  }

  async function writeAll(entries: readonly RevocationEntry[]) {
    for (let i = 0; i < entries.length; i += WRITE_BATCH) {
      await Promise.all(
        entries
          .slice(i, i + WRITE_BATCH)
          .map((e) =>
            redis.set(revokedSessionKey(e.sessionId), '1', 'EX', Math.max(1, Math.ceil(e.ttlSeconds))),
          ),
      );
    }
  }

  async function writeFloors(floors: readonly EntitlementsFloorEntry[]) {
    for (let i = 0; i < floors.length; i += WRITE_BATCH) {
      await Promise.all(
        floors
          .slice(i, i + WRITE_BATCH)
          .map((f) =>
            redis.eval(
              RAISE_FLOOR,
              1,
              entitlementsFloorKey(f.userId),
              f.version,
              Math.max(1, Math.ceil(f.ttlSeconds)),
            ),
          ),
      );
    }
  }

  return {
    async isSessionRevoked(sessionId) {
      const [revoked, complete] = await call('read', () =>
        redis.mget(revokedSessionKey(sessionId), REVOCATIONS_COMPLETE_KEY),
      );
      if (revoked !== null) return true;
      if (complete === null)
        throw new RevocationUnavailableError('the revocation cache is being rebuilt after a Redis data loss');
      return false;
    },
    async revokeSessions(sessionIds, ttlSeconds) {
      await call('write', () => writeAll(sessionIds.map((sessionId) => ({ sessionId, ttlSeconds }))));
    },
    async entitlementsFloor(userId) {
      const [floor, complete] = await call('read', () =>
        redis.mget(entitlementsFloorKey(userId), REVOCATIONS_COMPLETE_KEY),
      );
      if (complete === null)
        throw new RevocationUnavailableError('the revocation cache is being rebuilt after a Redis data loss');
      return floor === null ? 0 : Number(floor);
    },
    async raiseEntitlementsFloor(userId, version, ttlSeconds) {
      await call('write', () => writeFloors([{ userId, version, ttlSeconds }]));
    },
    async isComplete() {
      return (await call('read', () => redis.get(REVOCATIONS_COMPLETE_KEY))) !== null;
    },
    async invalidate() {
      // Not through the breaker: when it is open, reads skip Redis as well.
      await redis.del(REVOCATIONS_COMPLETE_KEY);
    },
    async restore(entries, floors = []) {
      const nonce = `${new Date().toISOString()}/${Math.random().toString(36).slice(2)}`;
      return call('rebuild', async () => {
        await redis.set(REVOCATIONS_REBUILD_KEY, nonce, 'EX', 300);
        await writeAll(entries);
        await writeFloors(floors);
        return (
          (await redis.eval(
            COMPLETE_REBUILD,
            2,
            REVOCATIONS_REBUILD_KEY,
            REVOCATIONS_COMPLETE_KEY,
            nonce,
          )) === 1
        );
      });
    },
  };
}

/** The record a cache stands for (auth's database). */
export interface RevocationAuthority {
  isSessionEnded(sessionId: string): Promise<boolean>;
  /** The user's entitlements floor in force now (0 when none). */
  entitlementsFloor(userId: string): Promise<number>;
}

/**
 * Asks `authority` whenever `cache` cannot tell (auth passes its database):
 * a Redis outage or data loss then costs a database read, not a refusal.
 * Writes go to the cache only.
 */
export function withRevocationFallback(
  cache: RevocationStore,
  authority: RevocationAuthority,
  onFallback?: (error: RevocationUnavailableError) => void,
): RevocationStore {
  async function orAuthority<T>(fromCache: () => Promise<T>, fromAuthority: () => Promise<T>): Promise<T> {
    try {
      return await fromCache();
    } catch (error) {
      if (!(error instanceof RevocationUnavailableError)) throw error;
      onFallback?.(error);
      return fromAuthority();
    }
  }
  return {
    isSessionRevoked: (sessionId) =>
      orAuthority(
        () => cache.isSessionRevoked(sessionId),
        () => authority.isSessionEnded(sessionId),
      ),
    entitlementsFloor: (userId) =>
      orAuthority(
        () => cache.entitlementsFloor(userId),
        () => authority.entitlementsFloor(userId),
      ),
    revokeSessions: (sessionIds, ttlSeconds) => cache.revokeSessions(sessionIds, ttlSeconds),
    raiseEntitlementsFloor: (userId, version, ttlSeconds) =>
      cache.raiseEntitlementsFloor(userId, version, ttlSeconds),
  };
}

/**
 * Remembers "not revoked" answers for `ttlMs`, so a service under load asks
 * Redis about a session at most once per `ttlMs` instead of on every request.
 * A revocation written elsewhere is therefore seen within `ttlMs` (keep it
 * under the 1 s DESIGN.md allows); one written through this store is seen at
 * once by this process. "Cannot tell" is never remembered.
 */
export function withRevocationCache(
  inner: RevocationStore,
  ttlMs = 500,
  maxEntries = 50_000,
): RevocationStore {
  const checkedAt = new Map<string, number>();
  // Floors are remembered the same way: a raise elsewhere is seen within ttlMs.
  const floors = new Map<string, { at: number; floor: number }>();
  return {
    async entitlementsFloor(userId) {
      const hit = floors.get(userId);
      if (hit !== undefined && Date.now() - hit.at < ttlMs) return hit.floor;
      const floor = await inner.entitlementsFloor(userId);
      floors.delete(userId);
      floors.set(userId, { at: Date.now(), floor });
      if (floors.size > maxEntries) floors.delete(floors.keys().next().value as string);
      return floor;
    },
    async raiseEntitlementsFloor(userId, version, ttlSeconds) {
      floors.delete(userId);
      await inner.raiseEntitlementsFloor(userId, version, ttlSeconds);
    },
    async isSessionRevoked(sessionId) {
      const at = checkedAt.get(sessionId);
      if (at !== undefined && Date.now() - at < ttlMs) return false;
      const revoked = await inner.isSessionRevoked(sessionId);
      if (revoked) {
        checkedAt.delete(sessionId);
      } else {
        // Re-insert so the Map's order is oldest-first for eviction.
        checkedAt.delete(sessionId);
        checkedAt.set(sessionId, Date.now());
        if (checkedAt.size > maxEntries) checkedAt.delete(checkedAt.keys().next().value as string);
      }
      return revoked;
    },
    async revokeSessions(sessionIds, ttlSeconds) {
      for (const id of sessionIds) checkedAt.delete(id);
      await inner.revokeSessions(sessionIds, ttlSeconds);
    },
  };
}

/**
 * Revocations held in this process only: for running every service in one
 * process with no Redis (`npm start` without REDIS_URL). Pass the same
 * instance to every service of the process. Like Redis after a restart, it
 * starts incomplete: auth restores it from its database before serving.
 */
export function createMemoryRevocationStore(now = () => Date.now()): RevocationCache {
  const until = new Map<string, number>();
  const floors = new Map<string, { version: number; until: number }>();
  let complete = false;
  const write = (entries: readonly RevocationEntry[]) => {
    for (const e of entries) until.set(e.sessionId, now() + Math.max(1, Math.ceil(e.ttlSeconds)) * 1000);
  };
  const raise = (f: EntitlementsFloorEntry) => {
    const current = floors.get(f.userId);
    if (current && current.until > now() && current.version > f.version) return;
    floors.set(f.userId, { version: f.version, until: now() + Math.max(1, Math.ceil(f.ttlSeconds)) * 1000 });
  };
  return {
    async isSessionRevoked(sessionId) {
      const end = until.get(sessionId);
      if (end !== undefined && end > now()) return true;
      if (end !== undefined) until.delete(sessionId);
      if (!complete) throw new RevocationUnavailableError('the revocation store has not been restored yet');
      return false;
    },
    async revokeSessions(sessionIds, ttlSeconds) {
      write(sessionIds.map((sessionId) => ({ sessionId, ttlSeconds })));
    },
    async entitlementsFloor(userId) {
      if (!complete) throw new RevocationUnavailableError('the revocation store has not been restored yet');
      const floor = floors.get(userId);
      return floor && floor.until > now() ? floor.version : 0;
    },
    async raiseEntitlementsFloor(userId, version, ttlSeconds) {
      raise({ userId, version, ttlSeconds });
    },
    async isComplete() {
      return complete;
    },
    async restore(entries, restoredFloors = []) {
      write(entries);
      for (const f of restoredFloors) raise(f);
      complete = true;
      return true;
    },
    async invalidate() {
      complete = false;
    },
  };
}
