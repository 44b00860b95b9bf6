import type { EntitlementsSyncBody } from '@tollgate/contracts';
import { describe, expect, it } from 'vitest';
import { type EntitlementPushPorts, pushEntitlementChange } from './entitlement-push.js';

function fakes(status = 'pending', newest: EntitlementsSyncBody | null = null) {
  const marks: string[] = [];
  const ports: EntitlementPushPorts = {
    change: async (id) => (id === 'missing' ? null : { id, userId: 'u1', status }),
    newest: async () => newest,
    succeeded: async (id, version) => void marks.push(`${id} succeeded v${version}`),
    failed: async (id, error) => void marks.push(`${id} failed: ${error.message}`),
  };
  const calls: { userId: string; body: EntitlementsSyncBody }[] = [];
  let fail = false;
  const auth = {
    push: async (userId: string, body: EntitlementsSyncBody) => {
      if (fail) throw new Error('auth unreachable');
      calls.push({ userId, body });
    },
    failNext: () => {
      fail = true;
    },
  };
  return { ports, auth, calls, marks };
}

const v3: EntitlementsSyncBody = { version: 3, features: { hd: true }, cause: { type: 'refund' } };

describe('pushEntitlementChange', () => {
  it('pushes the user’s newest version (not the row’s own) and marks the row', async () => {
    const { ports, auth, calls, marks } = fakes('pending', v3);
    expect(await pushEntitlementChange(ports, auth, 'chg_1')).toBe('pushed');
    expect(calls).toEqual([{ userId: 'u1', body: v3 }]);
    expect(marks).toEqual(['chg_1 succeeded v3']);
  });

  it('a failure is recorded and rethrown so the queue retries it', async () => {
    const { ports, auth, marks } = fakes('pending', v3);
    auth.failNext();
    await expect(pushEntitlementChange(ports, auth, 'chg_1')).rejects.toThrow('auth unreachable');
    expect(marks).toEqual(['chg_1 failed: auth unreachable']);
  });

  it('skips rows that are done or gone', async () => {
    const done = fakes('succeeded', v3);
    expect(await pushEntitlementChange(done.ports, done.auth, 'chg_1')).toBe('skipped');
    expect(await pushEntitlementChange(done.ports, done.auth, 'missing')).toBe('skipped');
    expect(done.calls).toEqual([]);
  });

  it('leaves out feature keys auth would refuse, warns once, and still pushes the rest', async () => {
    const body: EntitlementsSyncBody = {
      version: 4,
      features: { 'Pro Seats': 5, hd: true, ['x'.repeat(65)]: true, Upper: true },
      cause: { type: 'sync' },
    };
    const { ports, auth, calls, marks } = fakes('pending', body);
    const warnings: { keys: string[]; message: string }[] = [];
    const outcome = await pushEntitlementChange(ports, auth, 'chg_2', ({ keys }, message) =>
      warnings.push({ keys, message }),
    );
    expect(outcome).toBe('pushed');
    expect(calls).toEqual([{ userId: 'u1', body: { ...body, features: { hd: true } } }]);
    // Marked done: the bad keys are not retried (they would be refused on every attempt).
    expect(marks).toEqual(['chg_2 succeeded v4']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.keys.sort()).toEqual(['Pro Seats', 'Upper', 'x'.repeat(65)].sort());
    expect(warnings[0]?.message).toMatch(/lookup_key/);
  });
});
