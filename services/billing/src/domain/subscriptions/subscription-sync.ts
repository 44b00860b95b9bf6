/**
 * Brings the local copy of one subscription to Stripe's current state and
 * applies it (apply-subscription.ts: role changes, dunning state, the
 * user's entitlements), in one transaction.
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
import { type Db, type Sql, type SqlPool, sqlOf, type Tx } from '../../db/prisma.js';
import type { Boss } from '../../queue/queue.js';
import { idOf } from '../../stripe/client.js';
import {
  fetchProductFeatures,
  replaceProductFeatures,
  upsertPrice,
  upsertProduct,
} from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import { upsertCustomer, userIdFromMetadata } from '../customers/customers.js';
import type { DunningPolicy } from '../dunning/dunning.js';
import {
  applyPorts,
  applySubscription,
  lockSubscription,
  mainItem,
  type StoredSubscription,
  type SyncResult,
  storedSubscriptionColumns,
  subscriptionFields,
} from './apply-subscription.js';
import { coalesceByKey } from './shared-runs.js';

export {
  isSetToCancel,
  mainItem,
  type SyncResult,
  subscriptionFields,
} from './apply-subscription.js';

/** A fetch ticket: every fetch that starts later gets a larger one, in every billing process. */
export async function nextFetchTicket(sql: Sql): Promise<number> {
  const {
    rows: [row],
  } = await sql.query<{ ticket: number }>({
    name: 'fetch-ticket',
    text: "SELECT nextval('stripe_fetch_seq')::float8 AS ticket",
  });
  if (!row) throw new Error('stripe_fetch_seq gave no value');
  return Number(row.ticket);
}

export interface SubscriptionSyncDeps {
  db: Db;
  /** Plain SQL over the same pool: the read-and-apply of a subscription skips Prisma (ADR 0015). */
  sql: SqlPool;
  stripe: Stripe;
  boss: Boss;
  clock: Clock;
  dunning: DunningPolicy;
}

/** What the apply step needs from Stripe besides the subscription, fetched before its transaction. */
interface Prefetched {
  customer: Stripe.Customer | Stripe.DeletedCustomer | null;
  product: Stripe.Product | null;
  /** The product's features, when the mirror has never read them. */
  features: Stripe.ProductFeature[] | null;
  /** The mirror's customer row has no user yet. */
  unmapped: boolean;
}

/** What the apply reads of the mirror under the subscription's lock, in one round trip. */
interface MirrorRow extends StoredSubscription {
  customerFound: boolean;
  customerUserId: string | null;
  productRole: string | null;
  subscriptionFound: boolean;
}

const SYNC_CAUSE: ChangeCause = { type: 'sync' };

export function createSubscriptionSync({ db, sql, stripe, boss, clock, dunning }: SubscriptionSyncDeps) {
  /** The customer and product when the mirror lacks them (rare: objects made outside our API). */
  async function prefetch(customerId: string, productId: string | null): Promise<Prefetched> {
    const {
      rows: [mirror],
    } = await sql.query<{
      customerFound: boolean;
      unmapped: boolean;
      productFound: boolean;
      featuresSynced: boolean;
    }>({
      name: 'subscription-prefetch',
      text: `SELECT c.id IS NOT NULL AS "customerFound", c.id IS NOT NULL AND c.user_id IS NULL AS unmapped,
                      p.id IS NOT NULL AS "productFound", p.features_synced_at IS NOT NULL AS "featuresSynced"
                 FROM (SELECT 1) AS one
                 LEFT JOIN customers c ON c.id = $1
                 LEFT JOIN products p ON p.id = $2`,
      values: [customerId, productId],
    });
    const [customer, product, features] = await Promise.all([
      mirror?.customerFound ? null : stripe.customers.retrieve(customerId),
      productId && !mirror?.productFound ? stripe.products.retrieve(productId) : null,
      productId && !mirror?.featuresSynced ? fetchProductFeatures(stripe, productId) : null,
    ]);
    return { customer, product, features, unmapped: mirror?.unmapped ?? false };
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
    fetched: Prefetched,
  ) {
    if (!productId) return null;
    let product = await tx.product.findUnique({ where: { id: productId } });
    if (!product && fetched.product) {
      product = await upsertProduct(tx, fetched.product);
      const price = mainItem(subscription)?.price;
      if (price) await upsertPrice(tx, price);
    }
    if (product && fetched.features) await replaceProductFeatures(tx, productId, fetched.features);
    return product?.role ?? null;
  }

  /**
   * Fetches the subscription from Stripe (no transaction open), then applies it unless a newer fetch was.
   * `cause`: why (a Stripe event, an admin or user action), recorded with any change in the audit log.
   * `notBefore`: for an event, its receipt (performance.now() time); a run whose read began later serves it.
   * Syncs of one subscription in this process share runs (shared-runs.ts); a result that found no
   * user for the subscription is never reused (a mapping may arrive meanwhile).
   */
  const sync: (subscriptionId: string, cause?: ChangeCause, notBefore?: number) => Promise<SyncResult> =
    coalesceByKey(syncNow, { reusable: (result) => result.userId !== null });

  async function syncNow(
    subscriptionId: string,
    cause: ChangeCause = SYNC_CAUSE,
    reading: () => void = () => {},
  ): Promise<SyncResult> {
    const ticket = await nextFetchTicket(sql);
    reading();
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
    cause: ChangeCause,
  ): Promise<SyncResult> {
    const hint = userIdFromMetadata(subscription.metadata);
    const mirrored =
      !fetched.customer && !fetched.product && !fetched.features && !(fetched.unmapped && hint);
    // Nearly always: the mirror has the customer (mapped) and the product with its features, so
    // the apply is a few plain statements on one pooled client.
    if (mirrored) return sql.transaction((tx) => applyMirrored(tx, subscription, ticket, cause));
    // Otherwise the mirror gets the customer, product or features first, in the same transaction.
    return db.$transaction(
      async (tx): Promise<SyncResult> => {
        await lockSubscription(sqlOf(tx), subscription.id);
        const customerId = idOf(subscription.customer) as string;
        const customer = await ensureCustomerRow(tx, customerId, subscription, fetched.customer);
        const fields = subscriptionFields(subscription);
        const role = await roleOfProduct(tx, fields.productId, subscription, fetched);
        const now = clock.now();
        return applySubscription(applyPorts(sqlOf(tx), { boss, policy: dunning, now }), {
          subscriptionId: subscription.id,
          fields,
          customerId,
          userId: customer.userId,
          role,
          ticket,
          now,
          policy: dunning,
          cause,
        });
      },
      // Only database work inside: it is short, so a long wait means something is wrong.
      { timeout: 15_000, maxWait: 10_000 },
    );
  }

  /** The apply when the mirror has everything but the subscription: lock, one read, the writes. */
  async function applyMirrored(
    tx: Sql,
    subscription: Stripe.Subscription,
    ticket: number,
    cause: ChangeCause,
  ): Promise<SyncResult> {
    await lockSubscription(tx, subscription.id);
    const customerId = idOf(subscription.customer) as string;
    const fields = subscriptionFields(subscription);
    const {
      rows: [mirror],
    } = await tx.query<MirrorRow>({
      name: 'subscription-mirror',
      text: `SELECT c.id IS NOT NULL AS "customerFound", c.user_id::text AS "customerUserId", p.role AS "productRole",
                    s.id IS NOT NULL AS "subscriptionFound", ${storedSubscriptionColumns('s')}
               FROM (SELECT 1) AS one
               LEFT JOIN customers c ON c.id = $2
               LEFT JOIN products p ON p.id = $3
               LEFT JOIN subscriptions s ON s.id = $1`,
      values: [subscription.id, customerId, fields.productId],
    });
    // Gone since the prefetch (it saw it): retried, the prefetch then takes the other way.
    if (!mirror?.customerFound) throw new Error(`customer ${customerId} left the mirror during the sync`);
    const stored: StoredSubscription | null = mirror.subscriptionFound
      ? {
          userId: mirror.userId,
          fetchSeq: mirror.fetchSeq,
          pastDueSince: mirror.pastDueSince,
          entitledRole: mirror.entitledRole,
          entitlementExpiresAt: mirror.entitlementExpiresAt,
        }
      : null;
    const now = clock.now();
    return applySubscription(applyPorts(tx, { boss, policy: dunning, now, stored }), {
      subscriptionId: subscription.id,
      fields,
      customerId,
      userId: mirror.customerUserId,
      role: mirror.productRole,
      ticket,
      now,
      policy: dunning,
      cause,
    });
  }

  /**
   * Every subscription of a customer, as Stripe has them now (an entitlements
   * summary event: the customer's features changed, whichever object caused it).
   */
  async function syncCustomer(customerId: string, cause: ChangeCause): Promise<SyncResult[]> {
    const results: SyncResult[] = [];
    for await (const s of stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 }))
      results.push(await sync(s.id, cause));
    return results;
  }

  /** Subscriptions whose dunning step is due (past_due -> restricted -> revoked): re-sync them. */
  async function sweepDunning(): Promise<number> {
    const due = await db.subscription.findMany({
      where: { dunningNextStepAt: { lte: clock.now() } },
      select: { id: true, dunningState: true },
      take: 500,
    });
    for (const { id, dunningState } of due)
      await sync(id, { type: 'dunning', detail: `step due from ${dunningState ?? 'unknown'}` });
    return due.length;
  }

  return { sync, syncCustomer, sweepDunning };
}

export type SubscriptionSync = ReturnType<typeof createSubscriptionSync>;
