/**
 * Per-account lockout after repeated failed logins, with growing waits.
 *
 * Failures are counted per (subject, client address). The subject is the
 * account (its user id) whatever identifier named it, so login, email and
 * PATCH /me's current_password all draw on one budget; an identifier that
 * names no account is its own subject, counted the same way, so the answers
 * do not tell which identifiers exist (see lockoutSubject). Per address:
 * someone guessing from one place locks out only themselves at that place, so an attacker cannot
 * keep a user out of their own account. The wait doubles with each lockout
 * (base, 2x base, ... up to max); attempts during a lockout are refused
 * without being counted, so a lockout always ends on time. The count decays:
 * a day without failures forgets it.
 *
 * Shared by auth's /v1/auth/login and billing's admin panel login, so both
 * front doors follow one rule; each counts under its own key namespace.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

export interface LockoutStatus {
  /** Seconds until the lockout ends, or 0 when attempts are allowed. */
  lockedSeconds: number;
  /** No failures on record for this pair (so a success has nothing to clear). */
  clean: boolean;
}

export interface LoginLockout {
  check(subject: string, ip: string): Promise<LockoutStatus>;
  /** Counts a failure; returns the new lockout in seconds (0 when not locked). */
  recordFailure(subject: string, ip: string): Promise<number>;
  recordSuccess(subject: string, ip: string): Promise<void>;
}

/**
 * What a lockout counts against: the account when the identifier names one
 * (by login or by email alike), else the identifier itself.
 */
export function lockoutSubject(user: { id: string } | null, identifier: string): string {
  return user ? `user:${user.id}` : `unknown:${identifier.toLowerCase()}`;
}

const FORGET_AFTER_SECONDS = 24 * 3600;

// KEYS[1] = state hash. ARGV: now_ms, threshold, base_s, max_s, forget_s.
// Returns the lockout length in seconds (0 if this failure did not lock).
const RECORD_FAILURE = `
local locked_until = tonumber(redis.call('HGET', KEYS[1], 'locked_until') or '0')
local now = tonumber(ARGV[1])
if locked_until > now then return 0 end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local result = 0
if failures >= tonumber(ARGV[2]) then
  local level = redis.call('HINCRBY', KEYS[1], 'level', 1)
  local wait = tonumber(ARGV[3]) * (2 ^ (level - 1))
  if wait > tonumber(ARGV[4]) then wait = tonumber(ARGV[4]) end
  redis.call('HSET', KEYS[1], 'failures', 0, 'locked_until', now + wait * 1000)
  result = wait
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return result
`;

export function createRedisLoginLockout(
  redis: Redis,
  policy: LockoutPolicy,
  now = () => Date.now(),
  /** Key namespace: the same login at two front doors (auth, billing's admin panel) counts separately. */
  namespace = 'lockout',
): LoginLockout {
  // Hash so that neither identifiers nor addresses appear in Redis key names.
  // Lower-cased: a front door that passes a login as the subject counts Alice and alice together.
  const key = (subject: string, ip: string) =>
    `${namespace}:${createHash('sha256').update(`${subject.toLowerCase()}\n${ip}`).digest('hex')}`;

  return {
    async check(subject, ip) {
      const [until, failures, level] = await redis.hmget(
        key(subject, ip),
        'locked_until',
        'failures',
        'level',
      );
      const remainingMs = Number(until ?? 0) - now();
      return {
        lockedSeconds: remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0,
        clean: until === null && failures === null && level === null,
      };
    },
    async recordFailure(subject, ip) {
      const wait = await redis.eval(
        RECORD_FAILURE,
        1,
        key(subject, ip),
        now(),
        policy.threshold,
        policy.baseSeconds,
        policy.maxSeconds,
        FORGET_AFTER_SECONDS,
      );
      return Number(wait);
    },
    async recordSuccess(subject, ip) {
      await redis.del(key(subject, ip));
    },
  };
}

/**
 * The same policy held in this process only (for `npm start` without Redis,
 * where every service runs in one process).
 */
export function createMemoryLoginLockout(policy: LockoutPolicy, now = () => Date.now()): LoginLockout {
  const states = new Map<
    string,
    { failures: number; level: number; lockedUntil: number; forgetAt: number }
  >();
  const key = (subject: string, ip: string) => `${subject.toLowerCase()}\n${ip}`;
  const state = (k: string) => {
    const found = states.get(k);
    if (found && found.forgetAt > now()) return found;
    const fresh = { failures: 0, level: 0, lockedUntil: 0, forgetAt: 0 };
    states.set(k, fresh);
    return fresh;
  };
  return {
    async check(subject, ip) {
      const s = states.get(key(subject, ip));
      const remainingMs = (s?.lockedUntil ?? 0) - now();
      return { lockedSeconds: remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0, clean: s === undefined };
    },
    async recordFailure(subject, ip) {
      const s = state(key(subject, ip));
      if (s.lockedUntil > now()) return 0;
      s.failures += 1;
      s.forgetAt = now() + FORGET_AFTER_SECONDS * 1000;
      if (s.failures < policy.threshold) return 0;
      s.level += 1;
      const wait = Math.min(policy.baseSeconds * 2 ** (s.level - 1), policy.maxSeconds);
      s.failures = 0;
      s.lockedUntil = now() + wait * 1000;
      return wait;
    },
    async recordSuccess(subject, ip) {
      states.delete(key(subject, ip));
    },
  };
}
