/**
 * A Redis connection that fails fast. ioredis's defaults queue commands while
 * it is disconnected and retry each one across reconnects, which turned a
 * Redis outage into 2–18 s waits on every request; here a command fails at
 * once when there is no connection and after `commandTimeoutMs` when Redis
 * stops answering, and callers decide what a failure means for their path
 * (architecture/decisions/0010-redis-faults.md).
 */
import { Redis, type RedisOptions } from 'ioredis';

export interface FailFastRedisOptions {
  keyPrefix: string;
  /** Longest a single command may wait for its answer (default 250 ms). */
  commandTimeoutMs?: number;
  /** Further ioredis options (e.g. enableAutoPipelining). */
  extra?: RedisOptions;
}

export function createFailFastRedis(url: string, options: FailFastRedisOptions): Redis {
  return new Redis(url, {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 250,
    connectTimeout: 1_000,
    // Keep reconnecting for ever, at most a second apart, so service resumes soon after Redis does.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    ...options.extra,
  });
}

/**
 * Resolves when the connection is ready, or after `timeoutMs` (whichever is
 * first): lets a service start with Redis down, while not failing its first
 * requests just because the connection was still being made.
 */
export async function redisReady(redis: Redis, timeoutMs = 2_000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

const UNAVAILABLE_MESSAGES = [
  'Command timed out',
  "Stream isn't writeable",
  'Connection is closed',
  'Reached the max retries per request limit',
];
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// Replies of a Redis that is up but cannot serve: out of memory, still loading, a read-only replica.
const UNAVAILABLE_REPLIES = /^(OOM|LOADING|READONLY|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN)\b/;

/** Whether `error` means "Redis cannot be used right now" (as opposed to a bug in the command). */
export function isRedisUnavailableError(error: unknown): boolean {
  const e = error as { name?: string; message?: string; code?: string } | undefined;
  if (!e || typeof e.message !== 'string') return false;
  if (e.name === 'BrokenCircuitError' || e.name === 'MaxRetriesPerRequestError') return true;
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === 'ReplyError' && UNAVAILABLE_REPLIES.test(e.message)) return true;
  return UNAVAILABLE_MESSAGES.some((m) => e.message?.includes(m));
}
