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
