/**
 * Auth's audit log: every role grant and revoke and every entitlement push,
 * with who did it and why. Billing reads it per user (GET
 * /internal/v1/users/{id}/history) to answer "why does this user have this?".
 */
import { randomUUID } from 'node:crypto';
import type { AuthHistoryEntry, ChangeCause } from '@tollgate/contracts';
import type { Db } from '../../db/prisma.js';
import type { Prisma } from '../../generated/prisma/client.js';

export type AuditAction = 'role_granted' | 'role_revoked' | 'entitlements_changed';

export interface AuditRecord {
  userId: string;
  action: AuditAction;
  role?: string;
  source?: string;
  actor?: string;
  cause?: ChangeCause;
  details?: Record<string, unknown>;
}

/** The row to insert, for callers that write it inside their own transaction. */
export function auditRow(record: AuditRecord): Prisma.AuditEntryCreateManyInput {
  return {
    id: randomUUID(),
    userId: record.userId,
    action: record.action,
    role: record.role ?? null,
    source: record.source ?? null,
    actor: record.actor ?? null,
    cause: (record.cause ?? undefined) as Prisma.InputJsonValue | undefined,
    details: (record.details ?? undefined) as Prisma.InputJsonValue | undefined,
  };
}

export function createAuditRepository(db: Db) {
  return {
    /** The user's history, newest first. */
    async ofUser(userId: string, limit: number): Promise<AuthHistoryEntry[]> {
      const rows = await db.auditEntry.findMany({
        where: { userId },
        orderBy: [{ at: 'desc' }, { id: 'asc' }],
        take: limit,
      });
      return rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        action: r.action,
        role: r.role,
        source: r.source,
        actor: r.actor,
        cause: (r.cause ?? null) as ChangeCause | null,
        details: (r.details ?? null) as Record<string, unknown> | null,
      }));
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
