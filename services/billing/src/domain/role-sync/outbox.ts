/**
 * Writes role-sync work inside the caller's transaction: a role_syncs row
 * (what an admin sees) and the pg-boss job that carries it out. Both exist
 * only if the subscription change that asked for them commits.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Tx } from '../../db/prisma.js';
import { type Boss, QUEUES, txDb } from '../../queue/queue.js';
import type { RoleChange } from '../entitlements/entitlement.js';

export const subscriptionSource = (subscriptionId: string) => `subscription:${subscriptionId}`;

export async function enqueueRoleSync(
  tx: Tx,
  boss: Boss,
  input: { userId: string; subscriptionId: string; change: RoleChange; reason?: string },
): Promise<string> {
  const id = randomUUID();
  await tx.roleSync.create({
    data: {
      id,
      userId: input.userId,
      role: input.change.role,
      source: subscriptionSource(input.subscriptionId),
      subscriptionId: input.subscriptionId,
      action: input.change.action,
      expiresAt: input.change.expiresAt,
      reason: input.reason ?? null,
    },
  });
  const jobId = await boss.send(QUEUES.roleSync, { roleSyncId: id }, { db: txDb(tx) });
  await tx.roleSync.update({ where: { id }, data: { jobId } });
  return id;
}

/** What the admin panel does with role syncs: retry one now (e.g. after fixing a missing role in auth). */
export function createRoleSyncAdmin({ db, boss }: { db: Db; boss: Boss }) {
  async function retry(roleSyncId: string): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const row = await tx.roleSync.findUnique({ where: { id: roleSyncId }, select: { id: true } });
      if (!row) return false;
      const jobId = await boss.send(QUEUES.roleSync, { roleSyncId }, { db: txDb(tx) });
      await tx.roleSync.update({ where: { id: roleSyncId }, data: { status: 'pending', jobId } });
      return true;
    });
  }
  return { retry };
}
