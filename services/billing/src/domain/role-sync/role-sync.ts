/**
 * Carries out one role_syncs row. It applies what is due when it runs (read
 * from the subscription under a per-grant lock), not what was due when it
 * was written, so retries, duplicates and any order of runs converge on the
 * subscription's current entitlement.
 */
import type { Db } from '../../db/prisma.js';
import type { AuthRolesClient } from './auth-roles-client.js';

export type RoleSyncOutcome = 'granted' | 'revoked' | 'skipped';

export function createRoleSyncRunner({ db, auth }: { db: Db; auth: AuthRolesClient }) {
  async function run(roleSyncId: string): Promise<RoleSyncOutcome> {
    const row = await db.roleSync.findUnique({ where: { id: roleSyncId } });
    if (!row || row.status === 'succeeded' || row.status === 'cancelled') return 'skipped';
    try {
      const outcome = await db.$transaction(
        async (tx) => {
          // One grant (user, role, source) at a time: a slow older run cannot land after a newer one.
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`${row.userId}|${row.role}|${row.source}`}))`;
          const subscription = await tx.subscription.findUnique({
            where: { id: row.subscriptionId },
            select: { userId: true, entitledRole: true, entitlementExpiresAt: true },
          });
          const due = subscription?.userId === row.userId && subscription.entitledRole === row.role;
          if (due) {
            await auth.grant(row.userId, row.role, row.source, subscription.entitlementExpiresAt, row.id);
          } else {
            await auth.revoke(row.userId, row.role, row.source, row.id);
          }
          await tx.roleSync.update({
            where: { id: row.id },
            data: {
              status: 'succeeded',
              appliedAction: due ? 'grant' : 'revoke',
              attempts: { increment: 1 },
              lastError: null,
              completedAt: new Date(),
            },
          });
          return due ? ('granted' as const) : ('revoked' as const);
        },
        { timeout: 60_000, maxWait: 10_000 },
      );
      return outcome;
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
