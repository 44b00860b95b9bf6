/**
 * Brings the local copy of one subscription to Stripe's current state and
 * writes the role changes that follow, in one transaction.
 *
 * Stripe is asked first, with no transaction open (a slow Stripe must not
 * hold database connections and locks: under load that emptied the pool).
 * Before each fetch a ticket is drawn from a Postgres sequence; the fetched
 * object is applied, under a per-subscription lock, only when its ticket is
 * newer than the stored row's. A fetch that began later saw Stripe at least
 * as late, so an older fetch never overwrites a newer one; and whatever order
 * (or how many times) events arrive, the fetch that began after the last
 * change wins. Event timestamps, which tie within a second, are never compared.
 *
 * A subscription Stripe answers 404 for is never written from an event's
 * payload: the Stripe error propagates and the processor marks the event
 * `orphaned`.
 */
import type { ChangeCause } from '@tollgate/contracts';
import type Stripe from 'stripe';
import type { Db, Prisma, Tx } from '../../db/prisma.js';
import type { Boss } from '../../queue/queue.js';
import { fromUnix, idOf } from '../../stripe/client.js';
import { upsertPrice, upsertProduct } from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import { upsertCustomer, userIdFromMetadata } from '../customers/customers.js';
import { entitlementChanges, entitlementOf } from '../entitlements/entitlement.js';
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

/** A subscription's one item (tollgate sells one plan per subscription). */
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

/** A fetch ticket: every fetch that starts later gets a larger one, in every billing process. */
export async function nextFetchTicket(db: Db): Promise<number> {
  const [row] = await db.$queryRaw<
    { ticket: number }[]
  >`SELECT nextval('stripe_fetch_seq')::float8 AS ticket`;
  if (!row) throw new Error('stripe_fetch_seq gave no value');
  return Number(row.ticket);
}

export interface SubscriptionSyncDeps {
  db: Db;
  stripe: Stripe;
  boss: Boss;
  clock: Clock;
  graceDays: number;
}

/** What the apply step needs from Stripe besides the subscription, fetched before its transaction. */
interface Prefetched {
  customer: Stripe.Customer | Stripe.DeletedCustomer | null;
  product: Stripe.Product | null;
}

export function createSubscriptionSync({ db, stripe, boss, clock, graceDays }: SubscriptionSyncDeps) {
  /** The customer and product when the mirror lacks them (rare: objects made outside our API). */
  async function prefetch(customerId: string, productId: string | null): Promise<Prefetched> {
    const [customerRow, productRow] = await Promise.all([
      db.customer.findUnique({ where: { id: customerId }, select: { id: true } }),
      productId ? db.product.findUnique({ where: { id: productId }, select: { id: true } }) : null,
    ]);
    const [customer, product] = await Promise.all([
      customerRow ? null : stripe.customers.retrieve(customerId),
      productId && !productRow ? stripe.products.retrieve(productId) : null,
    ]);
    return { customer, product };
  }

  async function ensureCustomerRow(
    tx: Tx,
    customerId: string,
    subscription: Stripe.Subscription,
    fetched: Prefetched['customer'],
  ) {
    const existing = await tx.customer.findUnique({ where: { id: customerId } });
    const hint = userIdFromMetadata(subscription.metadata);
    if (existing && (existing.userId || !hint)) return existing;
    if (!existing && fetched) return upsertCustomer(tx, fetched, hint);
    if (!existing) throw new Error(`customer ${customerId} appeared in neither the mirror nor Stripe`);
    return tx.customer.update({ where: { id: customerId }, data: { userId: hint } });
  }

  async function roleOfProduct(
    tx: Tx,
    productId: string | null,
    subscription: Stripe.Subscription,
    fetched: Prefetched['product'],
  ) {
    if (!productId) return null;
    let product = await tx.product.findUnique({ where: { id: productId } });
    if (!product && fetched) {
      product = await upsertProduct(tx, fetched);
      const price = mainItem(subscription)?.price;
      if (price) await upsertPrice(tx, price);
    }
    return product?.role ?? null;
  }

  /** Fetches the subscription from Stripe (no transaction open), then applies it unless a newer fetch was. */
  /** `cause`: why (a Stripe event, an admin or user action), recorded with any role change in the audit log. */
  async function sync(subscriptionId: string, cause?: ChangeCause): Promise<SyncResult> {
    const ticket = await nextFetchTicket(db);
    // A 404 propagates: an event about a subscription Stripe does not know grants nothing.
    const subscription = await stripe.subscriptions.retrieve(subscriptionId);
    const customerId = idOf(subscription.customer) as string;
    const fields = subscriptionFields(subscription);
    const fetched = await prefetch(customerId, fields.productId);
    return apply(subscription, ticket, fetched, cause);
  }

  async function apply(
    subscription: Stripe.Subscription,
    ticket: number,
    fetched: Prefetched,
    cause?: ChangeCause,
  ) {
    const subscriptionId = subscription.id;
    return db.$transaction(
      async (tx): Promise<SyncResult> => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`subscription|${subscriptionId}`}))`;
        const before = await tx.subscription.findUnique({ where: { id: subscriptionId } });
        if (before && before.fetchSeq > ticket)
          return { subscriptionId, status: before.status, userId: before.userId, changes: 0, stale: true };
        const customerId = idOf(subscription.customer) as string;
        const customer = await ensureCustomerRow(tx, customerId, subscription, fetched.customer);
        const fields = subscriptionFields(subscription);
        const role = await roleOfProduct(tx, fields.productId, subscription, fetched.product);
        const now = clock.now();
        const pastDueSince = fields.status === 'past_due' ? (before?.pastDueSince ?? now) : null;
        const userId = customer.userId ?? before?.userId ?? null;
        const after = userId
          ? entitlementOf({ status: fields.status, role, pastDueSince }, now, graceDays)
          : { role: null, expiresAt: null };
        const row = {
          ...fields,
          customerId,
          userId,
          pastDueSince,
          entitledRole: after.role,
          entitlementExpiresAt: after.expiresAt,
          syncedAt: now,
          fetchSeq: ticket,
        };
        await tx.subscription.upsert({
          where: { id: subscriptionId },
          create: { id: subscriptionId, ...row },
          update: row,
        });
        const changes = entitlementChanges(
          { role: before?.entitledRole ?? null, expiresAt: before?.entitlementExpiresAt ?? null },
          after,
        );
        // A grant belongs to the user who held it: if the row had no user, there is nothing to revoke.
        const grantee = userId ?? before?.userId;
        if (grantee) {
          for (const change of changes) {
            await enqueueRoleSync(tx, boss, {
              userId: grantee,
              subscriptionId,
              change,
              reason: `subscription ${fields.status}`,
              ...(cause ? { cause: { ...cause, subscription_id: subscriptionId } } : {}),
            });
          }
        }
        return { subscriptionId, status: fields.status, userId, changes: grantee ? changes.length : 0 };
      },
      // Only database work inside: it is short, so a long wait means something is wrong.
      { timeout: 15_000, maxWait: 10_000 },
    );
  }

  /** Past_due subscriptions whose grace period has run out: re-sync them so the role goes. */
  async function sweepGrace(): Promise<number> {
    const due = await db.subscription.findMany({
      where: { status: 'past_due', entitledRole: { not: null }, entitlementExpiresAt: { lte: clock.now() } },
      select: { id: true },
      take: 500,
    });
    for (const { id } of due) await sync(id);
    return due.length;
  }

  return { sync, sweepGrace };
}

export type SubscriptionSync = ReturnType<typeof createSubscriptionSync>;
