import type { ProblemError } from '@tollgate/service-kit';
import { describe, expect, it } from 'vitest';
import { createUserAdmin } from './user-admin.service.js';

/** Fakes of the two ports, recording the order of what was done. */
function fakes(existing: string[]) {
  const calls: string[] = [];
  const users = new Map(existing.map((id) => [id, { disabledAt: null as Date | null }]));
  const admin = createUserAdmin({
    users: {
      async setDisabled(id, disabledAt) {
        calls.push(`${disabledAt ? 'disable' : 'enable'} ${id}`);
        const user = users.get(id);
        if (user) user.disabledAt = disabledAt;
        return user !== undefined;
      },
      async remove(id) {
        calls.push(`remove ${id}`);
        return users.delete(id);
      },
    },
    async endSessions(userId, filter, reason) {
      calls.push(`end ${userId} ${JSON.stringify(filter)} ${reason}`);
      return [];
    },
  });
  return { admin, calls, users };
}

const codeOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: ProblemError) => error.code,
  );

describe('createUserAdmin', () => {
  it('disables before ending every session, so nothing after the mark gets a session', async () => {
    const { admin, calls, users } = fakes(['u1']);
    await admin.disable('boss', 'u1');
    expect(calls).toEqual(['disable u1', 'end u1 {} user_disabled']);
    expect(users.get('u1')?.disabledAt).toBeInstanceOf(Date);
    await admin.enable('u1');
    expect(users.get('u1')?.disabledAt).toBeNull();
  });

  it('deletes only after disabling and ending the sessions', async () => {
    const { admin, calls } = fakes(['u1']);
    await admin.remove('boss', 'u1');
    expect(calls).toEqual(['disable u1', 'end u1 {} user_deleted', 'remove u1']);
  });

  it("refuses the admin's own account and unknown users, ending nothing", async () => {
    const { admin, calls } = fakes(['boss']);
    expect(await codeOf(admin.disable('boss', 'boss'))).toBe('own_account');
    expect(await codeOf(admin.remove('boss', 'boss'))).toBe('own_account');
    expect(await codeOf(admin.disable('boss', 'ghost'))).toBe('user_not_found');
    expect(await codeOf(admin.enable('ghost'))).toBe('user_not_found');
    expect(await codeOf(admin.remove('boss', 'ghost'))).toBe('user_not_found');
    expect(calls.filter((c) => c.startsWith('end') || c.startsWith('remove'))).toEqual([]);
  });
});
