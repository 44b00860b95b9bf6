/**
 * THE subscription apply step, used by webhooks (subscription-sync), the
 * full Stripe sync and the dunning sweep alike: given Stripe's current
 * object (fetched under a ticket), it stores the subscription with its
 * dunning state, writes the role changes that follow into the outbox, and
 * re-derives the user's entitlements (union, version, change record, push).
 *
 * Written against ports so the rule is unit-tested on fakes
 * (apply-subscription.test.ts); `applyPorts` binds them to a
 * transaction, in plain SQL. The caller holds the subscription's lock.
 */
import type { ChangeCause } from '@tollgate/contracts';
import type Stripe from 'stripe';
import type { Prisma, Sql } from '../../db/prisma.js';
import type { Boss } from '../../queue/queue.js';
import { fromUnix, idOf } from '../../stripe/client.js';
import type { DunningPolicy } from '../dunning/dunning.js';
import { entitlementChanges, entitlementOf, type RoleChange } from '../entitlements/entitlement.js';
import { entitlementsStore, refreshUserEntitlements } from '../entitlements/user-entitlements.js';
import { enqueueRoleSync } from '../role-sync/outbox.js';

export interface SyncResult {
  subscriptionId: string;
  status: string;
  userId: string | null;
  /** Roles whose sync was enqueued. */
  changes: number;
  /** True when a newer fetch had already been applied, so this one changed nothing. */
  stale?: boolean;
}

/** A subscription's main item (the first: tollgate sells one plan per subscription). */
export function mainItem(subscription: Stripe.Subscription): Stripe.SubscriptionItem | undefined {
  return subscription.items?.data?.[0];
}

/** Set to end: `cancel_at_period_end` (classic) or just `cancel_at` (flexible billing mode, the portal). */
export function isSetToCancel(s: { cancelAtPeriodEnd: boolean; cancelAt: Date | null; status: string }) {
  return s.status !== 'canceled' && (s.cancelAtPeriodEnd || s.cancelAt !== null);
}

export function subscriptionFields(subscription: Stripe.Subscription) {
  const item = mainItem(subscription);
  const price = item?.price;
  return {
    status: subscription.status,
    priceId: price?.id ?? null,
    productId: price ? idOf(price.product) : null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    cancelAt: fromUnix(subscription.cancel_at),
    canceledAt: fromUnix(subscription.canceled_at),
    endedAt: fromUnix(subscription.ended_at),
    currentPeriodStart: fromUnix(item?.current_period_start),
    currentPeriodEnd: fromUnix(item?.current_period_end),
    stripeCreatedAt: fromUnix(subscription.created) as Date,
    raw: subscription as unknown as Prisma.InputJsonValue,
  };
}

export type SubscriptionFields = ReturnType<typeof subscriptionFields>;

/** What the apply step reads of the stored row. */
export interface StoredSubscription {
  userId: string | null;
  fetchSeq: number;
  pastDueSince: Date | null;
  entitledRole: string | null;
  entitlementExpiresAt: Date | null;
}

export interface SubscriptionRow extends SubscriptionFields {
  customerId: string;
  userId: string | null;
  pastDueSince: Date | null;
  entitledRole: string | null;
  entitlementExpiresAt: Date | null;
  dunningState: string;
  dunningNextState: string | null;
  dunningNextStepAt: Date | null;
  syncedAt: Date;
  fetchSeq: number;
}

export interface ApplyPorts {
  find(subscriptionId: string): Promise<StoredSubscription | null>;
  save(subscriptionId: string, row: SubscriptionRow): Promise<void>;
  enqueueRoleSync(input: {
    userId: string;
    subscriptionId: string;
    change: RoleChange;
    reason: string;
    /** Why: goes with the role_syncs row into the audit log and to auth. */
    cause: ChangeCause;
  }): Promise<void>;
  refreshEntitlements(userId: string, cause: ChangeCause): Promise<void>;
}

export interface ApplyInput {
  subscriptionId: string;
  fields: SubscriptionFields;
  customerId: string;
  /** The user the customer maps to (null: unmapped; the row keeps its previous user). */
  userId: string | null;
  /** metadata.role of the subscribed product. */
  role: string | null;
  /** The fetch ticket the object was read under. */
  ticket: number;
  now: Date;
  policy: DunningPolicy;
  cause: ChangeCause;
}

export async function applySubscription(ports: ApplyPorts, input: ApplyInput): Promise<SyncResult> {
  const { subscriptionId, fields, now } = input;
  const before = await ports.find(subscriptionId);
  if (before && before.fetchSeq > input.ticket)
    return { subscriptionId, status: fields.status, userId: before.userId, changes: 0, stale: true };

  const pastDueSince = fields.status === 'past_due' ? (before?.pastDueSince ?? now) : null;
  const userId = input.userId ?? before?.userId ?? null;
  const computed = entitlementOf(
    { status: fields.status, role: input.role, pastDueSince },
    now,
    input.policy,
  );
  // Nobody to grant to: the row is kept (an admin maps the customer), granting nothing.
  const after = userId ? computed : { role: null, expiresAt: null };
  await ports.save(subscriptionId, {
    ...fields,
    customerId: input.customerId,
    userId,
    pastDueSince,
    entitledRole: after.role,
    entitlementExpiresAt: after.expiresAt,
    dunningState: computed.dunning.state,
    dunningNextState: computed.dunning.nextState,
    dunningNextStepAt: computed.dunning.nextStepAt,
    syncedAt: now,
    fetchSeq: input.ticket,
  });

  const changes = entitlementChanges(
    { role: before?.entitledRole ?? null, expiresAt: before?.entitlementExpiresAt ?? null },
    after,
  );
  // A grant belongs to the user who held it: if the row had no user, there is nothing to revoke.
  const grantee = userId ?? before?.userId ?? null;
  const cause = { ...input.cause, subscription_id: subscriptionId };
  if (grantee) {
    for (const change of changes)
      await ports.enqueueRoleSync({
        userId: grantee,
        subscriptionId,
        change,
        reason: `${input.cause.type}: subscription ${fields.status} (${computed.dunning.state})`,
        cause,
      });
    await ports.refreshEntitlements(grantee, cause);
  }
  if (before?.userId && before.userId !== grantee) await ports.refreshEntitlements(before.userId, cause);
  return { subscriptionId, status: fields.status, userId, changes: grantee ? changes.length : 0 };
}

/** What `find` reads of the stored row, as SQL columns of the table under `alias`. */
export function storedSubscriptionColumns(alias: string): string {
  return `${alias}.user_id::text AS "userId", ${alias}.fetch_seq AS "fetchSeq",
    ${alias}.past_due_since AS "pastDueSince", ${alias}.entitled_role AS "entitledRole",
    ${alias}.entitlement_expires_at AS "entitlementExpiresAt"`;
}

/**
 * The ports over a transaction, in plain SQL (a pooled client's transaction,
 * or a Prisma one through `sqlOf`); the caller has taken the subscription's
 * lock. `stored`: the row as the caller already read it under that lock (one
 * round trip fewer); otherwise `find` reads it.
 */
export function applyPorts(
  sql: Sql,
  deps: { boss: Boss; policy: DunningPolicy; now: Date; stored?: StoredSubscription | null },
): ApplyPorts {
  return {
    async find(id) {
      if (deps.stored !== undefined) return deps.stored;
      const { rows } = await sql.query<StoredSubscription>({
        name: 'subscription-stored',
        text: `SELECT ${storedSubscriptionColumns('s')} FROM subscriptions s WHERE s.id = $1`,
        values: [id],
      });
      return rows[0] ?? null;
    },
    async save(id, row) {
      await sql.query({
        name: 'subscription-save',
        text: `INSERT INTO subscriptions (id, customer_id, user_id, status, price_id, product_id, cancel_at_period_end,
                 cancel_at, canceled_at, ended_at, current_period_start, current_period_end, past_due_since,
                 entitled_role, entitlement_expires_at, dunning_state, dunning_next_state, dunning_next_step_at,
                 stripe_created_at, synced_at, fetch_seq, raw, updated_at)
               VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10::timestamptz,
                 $11::timestamptz, $12::timestamptz, $13::timestamptz, $14, $15::timestamptz, $16, $17,
                 $18::timestamptz, $19::timestamptz, $20::timestamptz, $21::float8, $22::jsonb, now())
               ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, user_id = EXCLUDED.user_id,
                 status = EXCLUDED.status, price_id = EXCLUDED.price_id, product_id = EXCLUDED.product_id,
                 cancel_at_period_end = EXCLUDED.cancel_at_period_end, cancel_at = EXCLUDED.cancel_at,
                 canceled_at = EXCLUDED.canceled_at, ended_at = EXCLUDED.ended_at,
                 current_period_start = EXCLUDED.current_period_start,
                 current_period_end = EXCLUDED.current_period_end, past_due_since = EXCLUDED.past_due_since,
                 entitled_role = EXCLUDED.entitled_role, entitlement_expires_at = EXCLUDED.entitlement_expires_at,
                 dunning_state = EXCLUDED.dunning_state, dunning_next_state = EXCLUDED.dunning_next_state,
                 dunning_next_step_at = EXCLUDED.dunning_next_step_at, stripe_created_at = EXCLUDED.stripe_created_at,
                 synced_at = EXCLUDED.synced_at, fetch_seq = EXCLUDED.fetch_seq, raw = EXCLUDED.raw,
                 updated_at = EXCLUDED.updated_at`,
        values: [
          id,
          row.customerId,
          row.userId,
          row.status,
          row.priceId,
          row.productId,
          row.cancelAtPeriodEnd,
          row.cancelAt,
          row.canceledAt,
          row.endedAt,
          row.currentPeriodStart,
          row.currentPeriodEnd,
          row.pastDueSince,
          row.entitledRole,
          row.entitlementExpiresAt,
          row.dunningState,
          row.dunningNextState,
          row.dunningNextStepAt,
          row.stripeCreatedAt,
          row.syncedAt,
          row.fetchSeq,
          JSON.stringify(row.raw),
        ],
      });
    },
    async enqueueRoleSync(input) {
      await enqueueRoleSync(sql, deps.boss, input);
    },
    async refreshEntitlements(userId, cause) {
      await refreshUserEntitlements(entitlementsStore(sql, deps.boss, deps.policy), userId, cause, deps.now);
    },
  };
}

/** Takes the per-subscription lock every writer of a subscription row takes. */
export async function lockSubscription(sql: Sql, subscriptionId: string): Promise<void> {
  // In FROM, so the row has a column Prisma's raw queries can read (they refuse `void`).
  await sql.query({
    name: 'subscription-lock',
    text: 'SELECT 1 FROM pg_advisory_xact_lock(hashtext($1))',
    values: [`subscription|${subscriptionId}`],
  });
}
