/// <reference path="./rate-limit-stores.d.ts" />
/**
 * Rate-limit counters for @fastify/rate-limit: in Redis, so every replica
 * counts together, and in this process while Redis is unavailable, so an
 * outage degrades limits to per-replica instead of switching them off (and a
 * frozen Redis costs no command timeout once the breaker is open). The two
 * counting schemes are the library's own stores; only the choice is ours
 * (architecture/decisions/0010-redis-faults.md).
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Redis } from 'ioredis';

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Result) => void;
type Method = 'incr' | 'read';
type Store = FastifyRateLimitStore & { read?: FastifyRateLimitStore['incr'] };
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0];

function fallbackStore(shared: Store, local: Store, breaker: CircuitBreakerPolicy): Store {
  function run(method: Method, key: string, cb: Callback, timeWindow: number, max: number) {
    const inProcess = () => local[method]?.(key, cb, timeWindow, max);
    breaker
      .execute(
        () =>
          new Promise<Result>((resolve, reject) =>
            shared[method]?.(
              key,
              (error, result) => (error || !result ? reject(error) : resolve(result)),
              timeWindow,
              max,
            ),
          ),
      )
      .then((result) => cb(null, result), inProcess);
  }
  return {
    incr: (key, cb, timeWindow, max) => run('incr', key, cb, timeWindow, max),
    read: (key, cb, timeWindow, max) => run('read', key, cb, timeWindow, max),
    child: (routeOptions: RouteOptions) =>
      fallbackStore(shared.child(routeOptions), local.child(routeOptions), breaker),
  };
}

/** A store constructor for `rateLimit({ store })` over `redis` (its keyPrefix applies), falling back to memory. */
export function redisWithLocalFallback(
  redis: Redis,
  breaker: CircuitBreakerPolicy,
  nameSpace = 'rate-limit:',
): FastifyRateLimitStoreCtor {
  return class {
    constructor(options: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      const shared = new RedisStore(options.continueExceeding, options.exponentialBackoff, redis, nameSpace);
      const local = new LocalStore(options.continueExceeding, options.exponentialBackoff);
      // biome-ignore lint/correctness/noConstructorReturn: the library instantiates the class it is given
      return fallbackStore(shared, local, breaker);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
