/**
 * What an admin does to an account: disable it, enable it again, delete it.
 * Disabling and deleting end every session of the user through the auth
 * service's endSessions, the one place sessions end and their revocation is
 * published, so every service stops accepting the user's tokens at once.
 */
import { Problems } from '../../errors.js';
import type { AuthService } from '../sessions/auth.service.js';
import type { UsersRepository } from './users.repository.js';

export interface UserAdminDeps {
  users: Pick<UsersRepository, 'setDisabled' | 'remove'>;
  endSessions: AuthService['endSessions'];
}

export function createUserAdmin({ users, endSessions }: UserAdminDeps) {
  function refuseOwn(actorId: string, userId: string, what: string) {
    // An admin locking themselves out would need database access to undo.
    if (actorId === userId) throw Problems.ownAccount(`an admin cannot ${what} their own account`);
  }

  /**
   * Marks the user disabled before ending their sessions: a login or refresh
   * that comes after the mark is refused, one that came before has its
   * session ended here.
   */
  async function disable(actorId: string, userId: string): Promise<void> {
    refuseOwn(actorId, userId, 'disable');
    if (!(await users.setDisabled(userId, new Date()))) throw Problems.userNotFound(`no user ${userId}`);
    await endSessions(userId, {}, 'user_disabled');
  }

  async function enable(userId: string): Promise<void> {
    if (!(await users.setDisabled(userId, null))) throw Problems.userNotFound(`no user ${userId}`);
  }

  /**
   * Deletes the account with its roles, sessions and login history. Billing
   * keeps its own records of the user (customer, subscriptions, invoices).
   */
  async function remove(actorId: string, userId: string): Promise<void> {
    refuseOwn(actorId, userId, 'delete');
    // Disabled and revoked first, so no token of the user outlives the row.
    if (!(await users.setDisabled(userId, new Date()))) throw Problems.userNotFound(`no user ${userId}`);
    await endSessions(userId, {}, 'user_deleted');
    await users.remove(userId);
  }

  return { disable, enable, remove };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
