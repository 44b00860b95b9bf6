/**
 * The state auth shares between its instances (and with every service that
 * verifies tokens): session revocations, login lockouts and rate-limit
 * counters. In Redis normally; in this process when all of tollgate runs in
 * one process without Redis (`npm start` with no REDIS_URL).
 */
import {
  createMemoryRevocationStore,
  createRedisRevocationStore,
  type RevocationStore,
} from '@tollgate/auth-client';
import { createMemoryLoginLockout, createRedisLoginLockout, type LoginLockout } from '@tollgate/login-guard';
import { Redis } from 'ioredis';
import type { Config } from './config.js';

export interface SharedState {
  /** Revocations as written and read by auth (other services read the same store). */
  revocation: RevocationStore;
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
    new Redis(config.redisUrl, {
      keyPrefix: config.redisKeyPrefix,
      maxRetriesPerRequest: 2,
      // Commands issued in the same tick (rate limit, lockout, revocation) share one write.
      enableAutoPipelining: true,
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
