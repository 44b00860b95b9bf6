/**
 * The state auth shares between its instances (and with every service that
 * verifies tokens): session revocations, login lockouts and rate-limit
 * counters. In Redis normally; in this process when all of tollgate runs in
 * one process without Redis (`npm start` with no REDIS_URL).
 */
import {
  createFailFastRedis,
  createMemoryRevocationStore,
  createRedisRevocationStore,
  type RevocationCache,
} from '@tollgate/auth-client';
import { createMemoryLoginLockout, createRedisLoginLockout, type LoginLockout } from '@tollgate/login-guard';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';

export interface SharedState {
  /**
   * The revocation cache as written and read by auth (other services read the
   * same store); auth's database holds the record it is rebuilt from.
   */
  revocation: RevocationCache;
  lockout: LoginLockout;
  /** The Redis behind it all, when there is one (rate limits use it too). */
  redis?: Redis;
  /** Whether the service that made this state should close it. */
  close(): Promise<void>;
  ping(): Promise<void>;
}

export function redisState(config: Config, redis?: Redis): SharedState {
  const client =
    redis ??
    createFailFastRedis(config.redisUrl, {
      keyPrefix: config.redisKeyPrefix,
      commandTimeoutMs: config.redisCommandTimeoutMs,
      // Commands issued in the same tick (rate limit, lockout, revocation) share one write.
      extra: { enableAutoPipelining: true },
    });
  return {
    revocation: createRedisRevocationStore(client),
    lockout: createRedisLoginLockout(client, config.lockout),
    redis: client,
    async close() {
      if (!redis) client.disconnect();
    },
    async ping() {
      await client.ping();
    },
  };
}

export function memoryState(config: Config): SharedState {
  return {
    revocation: createMemoryRevocationStore(),
    lockout: createMemoryLoginLockout(config.lockout),
    async close() {},
    async ping() {},
  };
}
