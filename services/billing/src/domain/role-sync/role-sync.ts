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
import type { Db, Sql } from '../../db/prisma.js';
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

/** A role_syncs row, as the runner reads it. */
interface RoleSyncRow {
  id: string;
  userId: string;
  role: string;
  source: string;
  subscriptionId: string;
  status: string;
  cause: ChangeCause | null;
}

/** What a subscription grants, as `dueFor` reads it (null fields: no such subscription). */
interface SubscriptionDue {
  subUserId: string | null;
  entitledRole: string | null;
  entitlementExpiresAt: Date | null;
}

export function createRoleSyncRunner({
  db,
  sql,
  auth,
  clock = systemClock,
}: {
  db: Db;
  /** Plain SQL over the same pool: every payment's role sync runs these reads and writes (ADR 0015). */
  sql: Sql;
  auth: Pick<AuthRolesClient, 'grant' | 'revoke'>;
  clock?: Clock;
}) {
  const SUBSCRIPTION_DUE = `s.user_id::text AS "subUserId", s.entitled_role AS "entitledRole",
    s.entitlement_expires_at AS "entitlementExpiresAt"`;

  function subscriptionDue(row: { userId: string; role: string }, subscription: SubscriptionDue): Due {
    const grant = subscription.subUserId === row.userId && subscription.entitledRole === row.role;
    return { grant, expiresAt: grant ? subscription.entitlementExpiresAt : null };
  }

  async function dueFor(row: {
    userId: string;
    role: string;
    subscriptionId: string;
    source: string;
  }): Promise<Due> {
    if (row.source.startsWith(PURCHASE_SOURCE_PREFIX)) return purchaseDue(row);
    const { rows } = await sql.query<SubscriptionDue>({
      name: 'role-sync-due',
      text: `SELECT ${SUBSCRIPTION_DUE} FROM subscriptions s WHERE s.id = $1`,
      values: [row.subscriptionId],
    });
    return subscriptionDue(
      row,
      rows[0] ?? { subUserId: null, entitledRole: null, entitlementExpiresAt: null },
    );
  }

  /** The row, and for a subscription's row what is due now, in one round trip. */
  async function readRow(roleSyncId: string): Promise<{ row: RoleSyncRow; due: Due | null } | null> {
    const { rows } = await sql.query<RoleSyncRow & SubscriptionDue>({
      name: 'role-sync-row',
      text: `SELECT r.id::text, r.user_id::text AS "userId", r.role, r.source, r.subscription_id AS "subscriptionId",
                    r.status::text, r.cause, ${SUBSCRIPTION_DUE}
               FROM role_syncs r LEFT JOIN subscriptions s ON s.id = r.subscription_id
              WHERE r.id = $1::uuid`,
      values: [roleSyncId],
    });
    const found = rows[0];
    if (!found) return null;
    const { subUserId, entitledRole, entitlementExpiresAt, ...row } = found;
    const due = subscriptionDue(row, { subUserId, entitledRole, entitlementExpiresAt });
    return { row, due: row.source.startsWith(PURCHASE_SOURCE_PREFIX) ? null : due };
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
    const read = await readRow(roleSyncId);
    if (!read || read.row.status === 'succeeded' || read.row.status === 'cancelled') return 'skipped';
    const { row } = read;
    try {
      let due = read.due ?? (await dueFor(row));
      for (let round = 1; ; round++) {
        // The cause of the change that wrote this row, for auth's audit log.
        const cause = row.cause ?? undefined;
        if (due.grant) await auth.grant(row.userId, row.role, row.source, due.expiresAt, row.id, cause);
        else await auth.revoke(row.userId, row.role, row.source, row.id, cause);
        const now = await dueFor(row);
        if (sameDue(due, now)) break;
        if (round >= MAX_ROUNDS)
          throw new EntitlementMovingError('the entitlement kept changing while auth was called; retrying');
        due = now;
      }
      await sql.query({
        name: 'role-sync-succeeded',
        text: `UPDATE role_syncs SET status = 'succeeded', applied_action = $2, attempts = attempts + 1,
                      last_error = NULL, completed_at = now(), updated_at = now() WHERE id = $1::uuid`,
        values: [row.id, due.grant ? 'grant' : 'revoke'],
      });
      return due.grant ? 'granted' : 'revoked';
    } catch (error) {
      await sql.query({
        name: 'role-sync-retrying',
        text: `UPDATE role_syncs SET status = 'retrying', attempts = attempts + 1, last_error = $2,
                      updated_at = now() WHERE id = $1::uuid`,
        values: [row.id, (error as Error).message.slice(0, 2000)],
      });
      throw error;
    }
  }

  return { run };
}

export type RoleSyncRunner = ReturnType<typeof createRoleSyncRunner>;
