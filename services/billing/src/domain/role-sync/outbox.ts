/**
 * Writes role-sync work inside the caller's transaction: a role_syncs row
 * (what an admin sees), its audit-log entry (with the cause) and the pg-boss
 * job that carries it out. All exist only if the subscription change that
 * asked for them commits.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeCause } from '@tollgate/contracts';
import { currentTraceparent } from '@tollgate/service-kit';
import type { Db, Sql } from '../../db/prisma.js';
import { type Boss, bossDb, QUEUES, txDb } from '../../queue/queue.js';
import { auditInsert, auditValues, causeFromReason } from '../audit/audit-log.js';
import type { RoleChange } from '../entitlements/entitlement.js';

/** The grant source of a subscription: defined with the internal role API's contract. */
export { subscriptionSource } from '@tollgate/contracts';

import { subscriptionSource } from '@tollgate/contracts';

export async function enqueueRoleSync(
  sql: Sql,
  boss: Boss,
  input: {
    userId: string;
    /** The subscription (or, with a `purchase:` source, the purchase) that pays for the role. */
    subscriptionId: string;
    change: RoleChange;
    reason?: string;
    /** Default: the subscription's source. */
    source?: string;
    /** Why (a Stripe event, a dunning step, a refund, ...); derived from `reason` when absent. */
    cause?: ChangeCause;
  },
): Promise<string> {
  const id = randomUUID();
  // The job's id is chosen here, so the row is written once with it (no UPDATE after the send).
  const jobId = randomUUID();
  const cause = input.cause ?? causeFromReason(input.reason, input.subscriptionId);
  // The trace of what asked for it (a webhook job, a request): the role-sync job continues it.
  const traceparent = currentTraceparent();
  // The row and its audit entry in one statement (one round trip on the payment -> role path).
  await sql.query(
    `WITH sync AS (
       INSERT INTO role_syncs (id, job_id, user_id, role, source, subscription_id, action, expires_at,
                               reason, cause, traceparent, updated_at)
       VALUES ($1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8::timestamptz, $9, $10::jsonb, $11, now()))
     ${auditInsert(12)}`,
    [
      id,
      jobId,
      input.userId,
      input.change.role,
      input.source ?? subscriptionSource(input.subscriptionId),
      input.subscriptionId,
      input.change.action,
      input.change.expiresAt,
      input.reason ?? null,
      JSON.stringify(cause),
      traceparent ?? null,
      ...auditValues({
        userId: input.userId,
        action: input.change.action === 'grant' ? 'role_grant' : 'role_revoke',
        role: input.change.role,
        subscriptionId: input.subscriptionId,
        outboxId: id,
        cause,
        details: {
          expires_at: input.change.expiresAt?.toISOString() ?? null,
          ...(input.reason ? { reason: input.reason } : {}),
        },
      }),
    ],
  );
  await boss.send(
    QUEUES.roleSync,
    { roleSyncId: id, ...(traceparent ? { traceparent } : {}) },
    { db: bossDb(sql), id: jobId },
  );
  return id;
}

/** What the admin panel does with role syncs: retry one now (e.g. after fixing a missing role in auth). */
export function createRoleSyncAdmin({ db, boss }: { db: Db; boss: Boss }) {
  async function retry(roleSyncId: string): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const row = await tx.roleSync.findUnique({
        where: { id: roleSyncId },
        select: { id: true, traceparent: true },
      });
      if (!row) return false;
      const data = { roleSyncId, ...(row.traceparent ? { traceparent: row.traceparent } : {}) };
      const jobId = await boss.send(QUEUES.roleSync, data, { db: txDb(tx) });
      await tx.roleSync.update({ where: { id: roleSyncId }, data: { status: 'pending', jobId } });
      return true;
    });
  }

  /**
   * Auth is back: role syncs waiting out their backoff run now instead of
   * up to ROLE_SYNC_RETRY_DELAY_MAX_SECONDS later. Their jobs are moved
   * forward in place (same job, same attempt count).
   */
  async function retryNow(max = 2000): Promise<number> {
    const rows = await db.roleSync.findMany({
      where: { status: 'retrying', jobId: { not: null } },
      select: { jobId: true },
      take: max,
    });
    let moved = 0;
    const now = new Date();
    for (let i = 0; i < rows.length; i += 20) {
      const results = await Promise.all(
        rows
          .slice(i, i + 20)
          .map((r) => boss.update(QUEUES.roleSync, undefined, { id: r.jobId as string, startAfter: now })),
      );
      moved += results.reduce((n, r) => n + r.updated, 0);
    }
    return moved;
  }

  async function stats() {
    const [retrying, pending] = await Promise.all([
      db.roleSync.count({ where: { status: 'retrying' } }),
      db.roleSync.count({ where: { status: 'pending' } }),
    ]);
    return { retrying, pending };
  }

  return { retry, retryNow, stats };
}
