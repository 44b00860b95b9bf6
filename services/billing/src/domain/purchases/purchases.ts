/**
 * One-time purchases: a `one_time` price bought through Checkout
 * (mode=payment) grants its product's features and role for good, or for
 * `duration_days` (price metadata, else product metadata); a full refund
 * (`charge.refunded` with the whole amount back) ends it, and so does the
 * end of its duration (the sweep). Each change re-derives the user's
 * entitlements and moves the role grant (source `purchase:<session id>`)
 * in the same transaction.
 */
import { type ChangeCause, purchaseSource } from '@tollgate/contracts';
import type Stripe from 'stripe';
import { type Db, type Prisma, sqlOf, type Tx } from '../../db/prisma.js';
import type { Boss } from '../../queue/queue.js';
import { idOf } from '../../stripe/client.js';
import type { Clock } from '../clock.js';
import type { DunningPolicy } from '../dunning/dunning.js';
import { entitlementsStore, refreshUserEntitlements } from '../entitlements/user-entitlements.js';
import { enqueueRoleSync } from '../role-sync/outbox.js';

/** The price or product metadata key that limits a purchase to a number of days. */
export const DURATION_METADATA_KEY = 'duration_days';

/** Days from metadata (price first, then product); null: lifetime. */
export function durationDays(
  priceMetadata: Record<string, string> | null | undefined,
  productMetadata: Record<string, string> | null | undefined,
): number | null {
  for (const metadata of [priceMetadata, productMetadata]) {
    const raw = metadata?.[DURATION_METADATA_KEY]?.trim();
    if (raw && /^\d+(\.\d+)?$/.test(raw) && Number(raw) > 0) return Number(raw);
  }
  return null;
}

export interface PurchasesDeps {
  db: Db;
  stripe: Stripe;
  boss: Boss;
  clock: Clock;
  dunning: DunningPolicy;
}

const metadataOf = (raw: unknown) => (raw as { metadata?: Record<string, string> } | null)?.metadata;

export function createPurchases({ db, stripe, boss, clock, dunning }: PurchasesDeps) {
  async function roleOf(tx: Tx, productId: string) {
    return (await tx.product.findUnique({ where: { id: productId }, select: { role: true } }))?.role ?? null;
  }

  /** Moves the purchase's role grant and re-derives the user's entitlements (inside `tx`). */
  async function follow(
    tx: Tx,
    purchase: { id: string; userId: string; productId: string; expiresAt: Date | null },
    action: 'grant' | 'revoke',
    cause: ChangeCause,
  ) {
    const role = await roleOf(tx, purchase.productId);
    if (role)
      await enqueueRoleSync(sqlOf(tx), boss, {
        userId: purchase.userId,
        subscriptionId: purchase.id,
        source: purchaseSource(purchase.id),
        change: { role, action, expiresAt: action === 'grant' ? purchase.expiresAt : null },
        reason: `${cause.type}: purchase ${action === 'grant' ? 'paid' : 'ended'}`,
        cause,
      });
    await refreshUserEntitlements(
      entitlementsStore(sqlOf(tx), boss, dunning),
      purchase.userId,
      cause,
      clock.now(),
    );
  }

  /**
   * A completed payment-mode session (re-fetched by the caller): records the
   * purchase once. An unpaid session (async payment pending) records nothing yet.
   */
  async function recordFromSession(session: Stripe.Checkout.Session, cause: ChangeCause) {
    if (session.mode !== 'payment' || session.payment_status !== 'paid') return null;
    const userId = session.client_reference_id ?? session.metadata?.userId ?? null;
    if (!userId) return null;
    const priceId = session.metadata?.priceId ?? (await firstPriceOf(session.id));
    if (!priceId) return null;
    const price = await db.price.findUnique({ where: { id: priceId }, include: { product: true } });
    if (!price) throw new Error(`price ${priceId} of ${session.id} is not in the mirror`);
    const purchasedAt = new Date((session.created ?? Math.floor(Date.now() / 1000)) * 1000);
    const days = durationDays(metadataOf(price.raw), metadataOf(price.product.raw));
    const expiresAt = days === null ? null : new Date(clock.now().getTime() + days * 86_400_000);
    return db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`purchase|${session.id}`}))`;
      const existing = await tx.purchase.findUnique({ where: { id: session.id } });
      if (existing) return existing;
      const purchase = await tx.purchase.create({
        data: {
          id: session.id,
          userId,
          customerId: idOf(session.customer),
          priceId,
          productId: price.productId,
          paymentIntentId: idOf(session.payment_intent),
          status: 'paid',
          purchasedAt,
          expiresAt,
          raw: session as unknown as Prisma.InputJsonValue,
        },
      });
      await follow(tx, purchase, 'grant', { ...cause, detail: `purchase ${purchase.id} of ${priceId}` });
      return purchase;
    });
  }

  async function firstPriceOf(sessionId: string): Promise<string | null> {
    const items = await stripe.checkout.sessions.listLineItems(sessionId, { limit: 1 });
    return items.data[0]?.price?.id ?? null;
  }

  /** A refunded charge (re-fetched): a full refund ends the purchase it paid for. */
  async function chargeRefunded(chargeId: string, cause: ChangeCause) {
    const charge = await stripe.charges.retrieve(chargeId);
    const paymentIntentId = idOf(charge.payment_intent);
    if (!paymentIntentId || !charge.refunded) return null;
    return db.$transaction(async (tx) => {
      const purchase = await tx.purchase.findUnique({ where: { paymentIntentId } });
      if (!purchase) return null;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`purchase|${purchase.id}`}))`;
      if (purchase.status === 'refunded') return purchase;
      const updated = await tx.purchase.update({
        where: { id: purchase.id },
        data: { status: 'refunded', refundedAt: clock.now() },
      });
      await follow(tx, updated, 'revoke', {
        ...cause,
        type: 'refund',
        detail: `charge ${charge.id} refunded`,
      });
      return updated;
    });
  }

  /** Purchases whose duration ran out: ended, and their users' entitlements re-derived. */
  async function sweepExpired(): Promise<number> {
    const due = await db.purchase.findMany({
      where: { status: 'paid', expiresAt: { lte: clock.now() } },
      select: { id: true },
      take: 500,
    });
    for (const { id } of due) {
      await db.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`purchase|${id}`}))`;
        const purchase = await tx.purchase.findUnique({ where: { id } });
        if (purchase?.status !== 'paid') return;
        const updated = await tx.purchase.update({ where: { id }, data: { status: 'expired' } });
        await follow(tx, updated, 'revoke', { type: 'purchase_expired', detail: `purchase ${id}` });
      });
    }
    return due.length;
  }

  async function listForUser(userId: string) {
    return db.purchase.findMany({ where: { userId }, orderBy: { purchasedAt: 'desc' } });
  }

  /** A purchase of the product that still grants (checkout refuses a second one). */
  async function ownedPurchase(userId: string, productId: string) {
    return db.purchase.findFirst({
      where: {
        userId,
        productId,
        status: 'paid',
        OR: [{ expiresAt: null }, { expiresAt: { gt: clock.now() } }],
      },
      select: { id: true },
    });
  }

  return { recordFromSession, chargeRefunded, sweepExpired, listForUser, ownedPurchase };
}

export type Purchases = ReturnType<typeof createPurchases>;
