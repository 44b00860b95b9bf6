/**
 * Billing's audit log and the merged per-user history ("why does this user
 * have this?"). Writers call `recordAudit` inside the transaction that
 * writes the outbox row carrying the change, so an entry exists exactly when
 * the change was decided. The history adds auth's side (what auth applied,
 * and admins' hand grants) from GET /internal/v1/users/{id}/history.
 */
import { randomUUID } from 'node:crypto';
import type { AuthHistoryEntry, ChangeCause } from '@tollgate/contracts';
import type { Db, Sql } from '../../db/prisma.js';

export type BillingAuditAction = 'role_grant' | 'role_revoke' | 'entitlements_changed' | (string & {});

export interface AuditRecord {
  userId: string;
  action: BillingAuditAction;
  role?: string | null;
  subscriptionId?: string | null;
  outboxId?: string | null;
  cause: ChangeCause;
  details?: Record<string, unknown>;
}

/**
 * The INSERT of one entry, its parameters numbered from `first`: outbox
 * writers append it to their own statement (one round trip for the row and
 * its entry). `at` is the clock's time, not the transaction's: entries
 * written by one transaction keep their order.
 */
export function auditInsert(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO audit_log (id, user_id, at, action, role, subscription_id, outbox_id, cause, details)
    VALUES (${p(0)}::uuid, ${p(1)}::uuid, clock_timestamp(), ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}::uuid, ${p(6)}::jsonb, ${p(7)}::jsonb)`;
}

/** The parameters of `auditInsert`, in order. */
export function auditValues(record: AuditRecord): unknown[] {
  return [
    randomUUID(),
    record.userId,
    record.action,
    record.role ?? null,
    record.subscriptionId ?? null,
    record.outboxId ?? null,
    JSON.stringify(record.cause),
    record.details === undefined ? null : JSON.stringify(record.details),
  ];
}

/** Writes one entry in the caller's transaction (the one writing the outbox row). */
export async function recordAudit(sql: Sql, record: AuditRecord): Promise<void> {
  await sql.query(auditInsert(1), auditValues(record));
}

/**
 * A cause for outbox writes that did not name one, from the reason string
 * they carry ("subscription active", "sync-stripe: ...", "reconcile: ...").
 */
export function causeFromReason(reason: string | undefined, subscriptionId: string): ChangeCause {
  const detail = reason ?? undefined;
  if (reason?.startsWith('reconcile')) return { type: 'reconcile', subscription_id: subscriptionId, detail };
  if (reason?.startsWith('sync-stripe')) return { type: 'sync', subscription_id: subscriptionId, detail };
  return { type: 'subscription_change', subscription_id: subscriptionId, ...(detail ? { detail } : {}) };
}

/** One line of the merged history. */
export interface HistoryEntry {
  at: string;
  /** Which service recorded it. */
  service: 'billing' | 'auth';
  action: string;
  role: string | null;
  subscription_id: string | null;
  /** auth: the grant's source; billing: null. */
  source: string | null;
  /** auth: the admin's user id or the service's client id; billing: null (billing itself). */
  actor: string | null;
  cause: ChangeCause | null;
  details: Record<string, unknown> | null;
}

export interface UserHistory {
  data: HistoryEntry[];
  /** false when auth could not be asked: `data` then holds billing's side only. */
  auth_included: boolean;
}

export interface AuditLogDeps {
  db: Db;
  /** Auth's side (the entitlements-sync client's `history`). */
  authHistory(userId: string, limit: number): Promise<AuthHistoryEntry[]>;
  onAuthFailed?: (error: unknown) => void;
}

export function mergeHistory(
  billing: readonly HistoryEntry[],
  auth: readonly AuthHistoryEntry[],
  limit: number,
): HistoryEntry[] {
  const fromAuth: HistoryEntry[] = auth.map((e) => ({
    at: e.at,
    service: 'auth',
    action: e.action,
    role: e.role,
    subscription_id: e.cause?.subscription_id ?? null,
    source: e.source,
    actor: e.actor,
    cause: e.cause,
    details: e.details,
  }));
  // Newest first; at the same instant billing's decision comes after auth's application in
  // reading order (billing decides, then auth applies).
  return [...billing, ...fromAuth]
    .sort((a, b) => b.at.localeCompare(a.at) || (a.service === b.service ? 0 : a.service === 'auth' ? -1 : 1))
    .slice(0, limit);
}

export function createAuditLog(deps: AuditLogDeps) {
  async function billingSide(userId: string, limit: number): Promise<HistoryEntry[]> {
    const rows = await deps.db.auditEntry.findMany({
      where: { userId },
      orderBy: [{ at: 'desc' }, { id: 'asc' }],
      take: limit,
    });
    return rows.map((r) => ({
      at: r.at.toISOString(),
      service: 'billing' as const,
      action: r.action,
      role: r.role,
      subscription_id: r.subscriptionId,
      source: null,
      actor: null,
      cause: (r.cause ?? null) as ChangeCause | null,
      details: {
        ...((r.details ?? {}) as Record<string, unknown>),
        ...(r.outboxId ? { outbox_id: r.outboxId } : {}),
      },
    }));
  }

  return {
    /** Both services' entries about the user, newest first; billing's alone when auth does not answer. */
    async historyOf(userId: string, limit = 200): Promise<UserHistory> {
      const [billing, auth] = await Promise.all([
        billingSide(userId, limit),
        deps.authHistory(userId, limit).then(
          (entries) => entries,
          (error: unknown) => {
            deps.onAuthFailed?.(error);
            return null;
          },
        ),
      ]);
      return { data: mergeHistory(billing, auth ?? [], limit), auth_included: auth !== null };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
