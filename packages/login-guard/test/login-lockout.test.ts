/**
 * The lockout rule, the same for both stores: Redis (real: TEST_REDIS_URL or
 * Testcontainers, through @tollgate/test-kit) and this process's memory.
 */
import { randomBytes } from 'node:crypto';
import { provisionRedis } from '@tollgate/test-kit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryLoginLockout, createRedisLoginLockout, type LoginLockout } from '../src/index.js';

const policy = { threshold: 3, baseSeconds: 60, maxSeconds: 100 };
const provisioned = await provisionRedis('login_guard');
const redis = new Redis(provisioned.url, { keyPrefix: provisioned.keyPrefix });
afterAll(async () => {
  redis.disconnect();
  await provisioned.release();
});

let now = 1_000_000;
const clock = () => now;

const stores: [string, () => LoginLockout][] = [
  ['memory', () => createMemoryLoginLockout(policy, clock)],
  ['redis', () => createRedisLoginLockout(redis, policy, clock)],
];

describe.each(stores)('%s lockout', (_name, make) => {
  it('locks (login, address) after the threshold, doubling up to the cap, and a success clears it', async () => {
    const lockout = make();
    const login = `u${randomBytes(4).toString('hex')}`;
    expect(await lockout.check(login, '10.0.0.1')).toEqual({ lockedSeconds: 0, clean: true });
    expect(await lockout.recordFailure(login, '10.0.0.1')).toBe(0);
    expect(await lockout.recordFailure(login, '10.0.0.1')).toBe(0);
    expect(await lockout.recordFailure(login, '10.0.0.1')).toBe(60);
    expect((await lockout.check(login.toUpperCase(), '10.0.0.1')).lockedSeconds).toBe(60);
    // Another address is not locked out by these failures.
    expect((await lockout.check(login, '10.0.0.2')).lockedSeconds).toBe(0);
    // Failures during a lockout are not counted.
    expect(await lockout.recordFailure(login, '10.0.0.1')).toBe(0);
    now += 61_000;
    for (let i = 0; i < 2; i++) await lockout.recordFailure(login, '10.0.0.1');
    expect(await lockout.recordFailure(login, '10.0.0.1')).toBe(100);
    now += 101_000;
    await lockout.recordSuccess(login, '10.0.0.1');
    expect(await lockout.check(login, '10.0.0.1')).toEqual({ lockedSeconds: 0, clean: true });
  });
});

describe('redis lockout namespaces', () => {
  it('counts the same login separately at two front doors', async () => {
    const auth = createRedisLoginLockout(redis, policy, clock);
    const admin = createRedisLoginLockout(redis, policy, clock, 'admin-lockout');
    for (let i = 0; i < 3; i++) await admin.recordFailure('admin', '10.0.0.9');
    expect((await admin.check('admin', '10.0.0.9')).lockedSeconds).toBeGreaterThan(0);
    expect(await auth.check('admin', '10.0.0.9')).toEqual({ lockedSeconds: 0, clean: true });
  });
});
