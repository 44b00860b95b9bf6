/**
 * Session revocation shared through Redis: when auth ends a session it writes
 * a key that lives as long as the session's longest-lived access token could;
 * every verifier checks the key, so an ended session's tokens stop working
 * everywhere at once instead of at expiry.
 */

/** The subset of an ioredis client this module needs (its keyPrefix, if any, applies). */
export interface RedisLike {
  exists(key: string): Promise<number>;
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
}

export interface RevocationStore {
  isSessionRevoked(sessionId: string): Promise<boolean>;
  revokeSessions(sessionIds: readonly string[], ttlSeconds: number): Promise<void>;
}

export function revokedSessionKey(sessionId: string): string {
  return `revoked-session:${sessionId}`;
}

export function createRedisRevocationStore(redis: RedisLike): RevocationStore {
  return {
    async isSessionRevoked(sessionId) {
      return (await redis.exists(revokedSessionKey(sessionId))) === 1;
    },
    async revokeSessions(sessionIds, ttlSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      await Promise.all(sessionIds.map((id) => redis.set(revokedSessionKey(id), '1', 'EX', ttl)));
    },
  };
}

/**
 * Remembers "not revoked" answers for `ttlMs`, so a service under load asks
 * Redis about a session at most once per `ttlMs` instead of on every request.
 * A revocation written elsewhere is therefore seen within `ttlMs` (keep it
 * under the 1 s DESIGN.md allows); one written through this store is seen at
 * once by this process.
 */
export function withRevocationCache(
  inner: RevocationStore,
  ttlMs = 500,
  maxEntries = 50_000,
): RevocationStore {
  const checkedAt = new Map<string, number>();
  return {
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
 * instance to every service of the process.
 */
export function createMemoryRevocationStore(now = () => Date.now()): RevocationStore {
  const until = new Map<string, number>();
  return {
    async isSessionRevoked(sessionId) {
      const end = until.get(sessionId);
      if (end === undefined) return false;
      if (end > now()) return true;
      until.delete(sessionId);
      return false;
    },
    async revokeSessions(sessionIds, ttlSeconds) {
      const end = now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
      for (const id of sessionIds) until.set(id, end);
    },
  };
}
