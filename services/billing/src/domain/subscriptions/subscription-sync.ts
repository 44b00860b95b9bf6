/**
 * Brings the local copy of one subscription to Stripe's current state and
 * writes the role changes that follow, in one transaction.
 *
 * The subscription is re-fetched from Stripe while a per-subscription lock is
 * held, so whatever order (or how many times) events arrive, and however
 * close in time, the last writer writes the newest truth: event timestamps,
 * which tie within a second, are never compared.
 */
import type Stripe from 'stripe';
import type { Db, Prisma, Tx } from '../../db/prisma.js';
import type { Boss } from '../../queue/queue.js';
import { fromUnix, idOf, isResourceMissing } from '../../stripe/client.js';
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

export interface SubscriptionSyncDeps {
  db: Db;
  stripe: Stripe;
  boss: Boss;
  clock: Clock;
  graceDays: number;
}

export function createSubscriptionSync({ db, stripe, boss, clock, graceDays }: SubscriptionSyncDeps) {
  async function ensureCustomerRow(tx: Tx, customerId: string, subscription: Stripe.Subscription) {
    const existing = await tx.customer.findUnique({ where: { id: customerId } });
    const hint = userIdFromMetadata(subscription.metadata);
    if (existing && (existing.userId || !hint)) return existing;
    const customer = existing ? null : await stripe.customers.retrieve(customerId);
    if (customer) return upsertCustomer(tx, customer, hint);
    return tx.customer.update({ where: { id: customerId }, data: { userId: hint } });
  }

  async function roleOfProduct(tx: Tx, productId: string | null, subscription: Stripe.Subscription) {
    if (!productId) return null;
    let product = await tx.product.findUnique({ where: { id: productId } });
    if (!product) {
      product = await upsertProduct(tx, await stripe.products.retrieve(productId));
      const price = mainItem(subscription)?.price;
      if (price) await upsertPrice(tx, price);
    }
    return product.role;
  }

  /**
   * @param fallback the subscription as an event carried it, used only when
   *   Stripe no longer has it (a deleted test object).
   */
  async function sync(subscriptionId: string, fallback?: Stripe.Subscription): Promise<SyncResult> {
    return db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`subscription|${subscriptionId}`}))`;
        let subscription: Stripe.Subscription;
        try {
          subscription = await stripe.subscriptions.retrieve(subscriptionId);
        } catch (error) {
          if (!isResourceMissing(error) || !fallback) throw error;
          subscription = fallback;
        }
        const customerId = idOf(subscription.customer) as string;
        const customer = await ensureCustomerRow(tx, customerId, subscription);
        const fields = subscriptionFields(subscription);
        const role = await roleOfProduct(tx, fields.productId, subscription);
        const before = await tx.subscription.findUnique({ where: { id: subscriptionId } });
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
            });
          }
        }
        return { subscriptionId, status: fields.status, userId, changes: grantee ? changes.length : 0 };
      },
      { timeout: 60_000, maxWait: 10_000 },
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
