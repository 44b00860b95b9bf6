import { describe, expect, it } from 'vitest';
import { createMemoryLoginLockout, lockoutSubject } from './login-lockout.js';

describe('lockoutSubject', () => {
  it('is the account whatever identifier named it, else the identifier lower-cased', () => {
    const user = { id: '6f1d0c59-0000-4000-8000-000000000001' };
    expect(lockoutSubject(user, 'Alice')).toBe(lockoutSubject(user, 'alice@example.com'));
    expect(lockoutSubject(null, 'Ghost')).toBe(lockoutSubject(null, 'ghost'));
    expect(lockoutSubject(null, 'ghost')).not.toBe(lockoutSubject(user, 'ghost'));
  });

  it('shares one count between the identifiers of an account (memory store)', async () => {
    const lockout = createMemoryLoginLockout({ threshold: 2, baseSeconds: 60, maxSeconds: 60 });
    const user = { id: 'u1' };
    await lockout.recordFailure(lockoutSubject(user, 'alice'), '192.0.2.1');
    expect(await lockout.recordFailure(lockoutSubject(user, 'alice@example.com'), '192.0.2.1')).toBe(60);
    expect((await lockout.check(lockoutSubject(user, 'ALICE'), '192.0.2.1')).lockedSeconds).toBe(60);
    expect((await lockout.check(lockoutSubject(user, 'alice'), '192.0.2.2')).lockedSeconds).toBe(0);
  });
});
