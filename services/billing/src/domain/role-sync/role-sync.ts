/**
 * Carries out one role_syncs row. It applies what is due when it runs (read
 * from the subscription), not what was due when it was written, so retries,
 * duplicates and any order of runs converge on the subscription's current
 * entitlement.
 *
 * No transaction (and no database connection) is held while auth is called:
 * a slow or absent auth must not pin billing's pool or keep locks. Instead,
 * after auth answered, what is due is read again: if it changed meanwhile,
 * the call is made again. So the last call that reaches auth is always
 * followed by a check against the newest entitlement, and a change after
 * that check has a role sync of its own (the outbox writes one per change).
 */
import { type ChangeCause, PURCHASE_SOURCE_PREFIX } from '@tollgate/contracts';
import type { Db } from '../../db/prisma.js';
import { type Clock, systemClock } from '../clock.js';
import { purchaseGrants } from '../entitlements/user-entitlements.js';
import type { AuthRolesClient } from './auth-roles-client.js';

export type RoleSyncOutcome = 'granted' | 'revoked' | 'skipped';

interface Due {
  grant: boolean;
  expiresAt: Date | null;
}

const sameDue = (a: Due, b: Due) =>
  a.grant === b.grant && (a.expiresAt?.getTime() ?? null) === (b.expiresAt?.getTime() ?? null);

/** Calls made for one row before giving the job back to the queue (its backoff then applies). */
const MAX_ROUNDS = 3;

export class EntitlementMovingError extends Error {
  override name = 'EntitlementMovingError';
}

export function createRoleSyncRunner({
  db,
  auth,
  clock = systemClock,
}: {
  db: Db;
  auth: Pick<AuthRolesClient, 'grant' | 'revoke'>;
  clock?: Clock;
}) {
  async function dueFor(row: {
    userId: string;
    role: string;
    subscriptionId: string;
    source: string;
  }): Promise<Due> {
    if (row.source.startsWith(PURCHASE_SOURCE_PREFIX)) return purchaseDue(row);
    const subscription = await db.subscription.findUnique({
      where: { id: row.subscriptionId },
      select: { userId: true, entitledRole: true, entitlementExpiresAt: true },
    });
    const grant = subscription?.userId === row.userId && subscription.entitledRole === row.role;
    return { grant, expiresAt: grant ? (subscription?.entitlementExpiresAt ?? null) : null };
  }

  /** A one-time purchase's role: while it is paid and not expired. */
  async function purchaseDue(row: { userId: string; role: string; subscriptionId: string }): Promise<Due> {
    const purchase = await db.purchase.findUnique({ where: { id: row.subscriptionId } });
    const product = purchase
      ? await db.product.findUnique({ where: { id: purchase.productId }, select: { role: true } })
      : null;
    const grant =
      !!purchase &&
      purchase.userId === row.userId &&
      product?.role === row.role &&
      purchaseGrants(purchase, clock.now());
    return { grant, expiresAt: grant ? (purchase?.expiresAt ?? null) : null };
  }

  async function run(roleSyncId: string): Promise<RoleSyncOutcome> {
    const row = await db.roleSync.findUnique({ where: { id: roleSyncId } });
    if (!row || row.status === 'succeeded' || row.status === 'cancelled') return 'skipped';
    try {
      let due = await dueFor(row);
      for (let round = 1; ; round++) {
        // The cause of the change that wrote this row, for auth's audit log.
        const cause = (row.cause ?? undefined) as ChangeCause | undefined;
        if (due.grant) await auth.grant(row.userId, row.role, row.source, due.expiresAt, row.id, cause);
        else await auth.revoke(row.userId, row.role, row.source, row.id, cause);
        const now = await dueFor(row);
        if (sameDue(due, now)) break;
        if (round >= MAX_ROUNDS)
          throw new EntitlementMovingError('the entitlement kept changing while auth was called; retrying');
        due = now;
      }
      await db.roleSync.update({
        where: { id: row.id },
        data: {
          status: 'succeeded',
          appliedAction: due.grant ? 'grant' : 'revoke',
          attempts: { increment: 1 },
          lastError: null,
          completedAt: new Date(),
        },
      });
      return due.grant ? 'granted' : 'revoked';
    } catch (error) {
      await db.roleSync.update({
        where: { id: row.id },
        data: {
          status: 'retrying',
          attempts: { increment: 1 },
          lastError: (error as Error).message.slice(0, 2000),
        },
      });
      throw error;
    }
  }

  return { run };
}

export type RoleSyncRunner = ReturnType<typeof createRoleSyncRunner>;
