/**
 * The full Stripe sync (`npm run -w @tollgate/billing sync-stripe`): pulls
 * products, prices, customers, subscriptions and invoices page by page with
 * the SDK's auto-pagination, writes each page of the catalogue, customers
 * and invoices with one bulk upsert, and applies every subscription through
 * the one apply step (domain/subscriptions/apply-subscription.ts) that the
 * webhooks use: role syncs, dunning state and the user's entitlements follow
 * in the same transaction wherever they differ from what was recorded.
 *
 * `reconcile` first re-applies every mirrored subscription through the same
 * apply step (re-deriving dunning and entitlements for the time now), then
 * compares the grants auth actually holds (source "subscription:*") with the
 * entitlements, and enqueues the grants and revocations that fix the drift;
 * the same for one-time purchases' grants; and queues every user's newest
 * entitlements for auth again.
 */

import {
  type ChangeCause,
  PURCHASE_SOURCE_PREFIX,
  purchaseSource,
  SUBSCRIPTION_SOURCE_PREFIX,
  subscriptionIdOf,
} from '@tollgate/contracts';
import type Stripe from 'stripe';
import type { Billing } from '../../context.js';
import { type Db, sqlOf, type Tx } from '../../db/prisma.js';
import { type Boss, QUEUES, txDb } from '../../queue/queue.js';
import { idOf } from '../../stripe/client.js';
import { fetchProductFeatures, priceRow, productRow, replaceProductFeatures } from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import { customerRow, userIdFromMetadata } from '../customers/customers.js';
import type { DunningPolicy } from '../dunning/dunning.js';
import { purchaseGrants } from '../entitlements/user-entitlements.js';
import { invoiceRow } from '../invoices/invoices.js';
import { enqueueRoleSync, subscriptionSource } from '../role-sync/outbox.js';
import {
  applyPorts,
  applySubscription,
  lockSubscription,
  subscriptionFields,
} from '../subscriptions/apply-subscription.js';
import { nextFetchTicket } from '../subscriptions/subscription-sync.js';
import { bulkUpsert } from './bulk-upsert.js';

export type SyncResource = 'products' | 'prices' | 'customers' | 'subscriptions' | 'invoices';
export const SYNC_ORDER: SyncResource[] = ['products', 'prices', 'customers', 'subscriptions', 'invoices'];

export interface SyncProgress {
  /** Called after each page: how many objects of this resource so far. */
  page(resource: SyncResource, done: number): void;
  /** Called once a resource is complete. */
  finished(resource: SyncResource, total: number): void;
}

export interface SyncReport {
  counts: Record<SyncResource, number>;
  /** Role syncs enqueued because an entitlement differed from what was recorded. */
  roleSyncsEnqueued: number;
  seconds: number;
}

export interface AuthGrant {
  userId: string;
  role: string;
  source: string;
}

export interface ReconcileReport {
  /** Subscription grants ("subscription:*"). */
  grantsInAuth: number;
  entitled: number;
  missingGranted: number;
  /** The same for grants of one-time purchases ("purchase:*"). */
  purchases: { grantsInAuth: number; missingGranted: number; extraRevoked: number };
  /** Users whose newest entitlements were queued for auth again. */
  entitlementsRepushed: number;
  extraRevoked: number;
}

export interface StripeSyncDeps {
  db: Db;
  stripe: Stripe;
  boss: Boss;
  clock: Clock;
  dunning: DunningPolicy;
  /** Every grant auth holds whose source starts with "subscription:". */
  listAuthGrants(sourcePrefix: string): AsyncIterable<AuthGrant>;
}

const PAGE = 100;

async function* pages<T>(list: AsyncIterable<T>, size = PAGE): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const item of list) {
    page.push(item);
    if (page.length === size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

export function createStripeSync(deps: StripeSyncDeps) {
  const { db, stripe } = deps;
  const noProgress: SyncProgress = { page() {}, finished() {} };

  /**
   * @param ticket drawn from stripe_fetch_seq before the listing began: a row a
   *   later-started re-fetch (webhook) already wrote is left alone, as in
   *   subscription-sync.
   */
  async function syncSubscriptionsPage(
    tx: Tx,
    page: Stripe.Subscription[],
    ticketOf: (subscription: Stripe.Subscription) => number,
    cause: ChangeCause,
  ): Promise<number> {
    const customerIds = [...new Set(page.map((s) => idOf(s.customer) as string))];
    const [customers, products] = await Promise.all([
      tx.customer.findMany({ where: { id: { in: customerIds } }, select: { id: true, userId: true } }),
      tx.product.findMany({ select: { id: true, role: true } }),
    ]);
    const userOf = new Map(customers.map((c) => [c.id, c.userId]));
    const roleOf = new Map(products.map((p) => [p.id, p.role]));
    const now = deps.clock.now();
    const ports = applyPorts(sqlOf(tx), { boss: deps.boss, policy: deps.dunning, now });
    let enqueued = 0;
    for (const subscription of page) {
      const fields = subscriptionFields(subscription);
      const customerId = idOf(subscription.customer) as string;
      await lockSubscription(sqlOf(tx), subscription.id);
      const result = await applySubscription(ports, {
        subscriptionId: subscription.id,
        fields,
        customerId,
        userId: userOf.get(customerId) ?? userIdFromMetadata(subscription.metadata),
        role: fields.productId ? (roleOf.get(fields.productId) ?? null) : null,
        ticket: ticketOf(subscription),
        now,
        policy: deps.dunning,
        cause,
      });
      enqueued += result.changes;
    }
    return enqueued;
  }

  async function run(progress: SyncProgress = noProgress): Promise<SyncReport> {
    const started = Date.now();
    const counts: Record<SyncResource, number> = {
      products: 0,
      prices: 0,
      customers: 0,
      subscriptions: 0,
      invoices: 0,
    };
    let roleSyncsEnqueued = 0;

    const simple = async <T extends { id: string }>(
      resource: Exclude<SyncResource, 'subscriptions'>,
      list: AsyncIterable<T>,
      toRow: (item: T) => Record<string, unknown>,
      keepExisting: string[] = [],
    ) => {
      for await (const page of pages(list)) {
        await db.$transaction((tx) =>
          bulkUpsert(
            tx,
            resource,
            page.map((item) => ({ id: item.id, ...toRow(item) })),
            keepExisting,
          ),
        );
        counts[resource] += page.length;
        progress.page(resource, counts[resource]);
      }
      progress.finished(resource, counts[resource]);
    };

    await simple('products', stripe.products.list({ limit: PAGE }), productRow);
    // Each product's Entitlements features (no list spans products at Stripe).
    for (const { id } of await db.product.findMany({ select: { id: true } })) {
      const features = await fetchProductFeatures(stripe, id);
      await db.$transaction((tx) => replaceProductFeatures(tx, id, features));
    }
    await simple('prices', stripe.prices.list({ limit: PAGE }), priceRow);
    // A customer's user mapping, once made, is never overwritten by a sync.
    await simple(
      'customers',
      stripe.customers.list({ limit: PAGE }),
      (customer) => ({ ...customerRow(customer), userId: userIdFromMetadata(customer.metadata) }),
      ['userId'],
    );
    const ticket = await nextFetchTicket(sqlOf(db));
    for await (const page of pages(stripe.subscriptions.list({ limit: PAGE, status: 'all' }))) {
      roleSyncsEnqueued += await db.$transaction(
        (tx) => syncSubscriptionsPage(tx, page, () => ticket, { type: 'sync', detail: 'sync-stripe' }),
        { timeout: 60_000 },
      );
      counts.subscriptions += page.length;
      progress.page('subscriptions', counts.subscriptions);
    }
    progress.finished('subscriptions', counts.subscriptions);
    await simple('invoices', stripe.invoices.list({ limit: PAGE }), invoiceRow);

    return { counts, roleSyncsEnqueued, seconds: (Date.now() - started) / 1000 };
  }

  /**
   * Re-applies every mirrored subscription through the apply step, from the
   * object last fetched and under that fetch's own ticket (a webhook applying
   * a newer fetch meanwhile wins): dunning steps, roles and entitlements are
   * re-derived for the time now, whatever was missed.
   */
  async function reapplyMirror(): Promise<{ subscriptions: number; roleSyncs: number }> {
    let cursor: string | undefined;
    let subscriptions = 0;
    let roleSyncs = 0;
    for (;;) {
      const rows = await db.subscription.findMany({
        orderBy: { id: 'asc' },
        take: PAGE,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
        select: { id: true, raw: true, fetchSeq: true },
      });
      if (rows.length === 0) break;
      const ticketOf = new Map(rows.map((r) => [r.id, r.fetchSeq]));
      roleSyncs += await db.$transaction(
        (tx) =>
          syncSubscriptionsPage(
            tx,
            rows.map((r) => r.raw as unknown as Stripe.Subscription),
            (s) => ticketOf.get(s.id) ?? 0,
            { type: 'reconcile' },
          ),
        { timeout: 60_000 },
      );
      subscriptions += rows.length;
      cursor = rows.at(-1)?.id;
    }
    return { subscriptions, roleSyncs };
  }

  async function reconcile(): Promise<ReconcileReport> {
    await reapplyMirror();
    const held = new Map<string, AuthGrant>();
    for await (const grant of deps.listAuthGrants(SUBSCRIPTION_SOURCE_PREFIX))
      held.set(`${grant.userId}|${grant.role}|${grant.source}`, grant);
    const entitled = await db.subscription.findMany({
      where: { entitledRole: { not: null }, userId: { not: null } },
      select: { id: true, userId: true, entitledRole: true, entitlementExpiresAt: true },
    });
    const wanted = new Set<string>();
    let missingGranted = 0;
    let extraRevoked = 0;
    await db.$transaction(
      async (tx) => {
        for (const s of entitled) {
          const key = `${s.userId}|${s.entitledRole}|${subscriptionSource(s.id)}`;
          wanted.add(key);
          if (held.has(key)) continue;
          await enqueueRoleSync(sqlOf(tx), deps.boss, {
            userId: s.userId!,
            subscriptionId: s.id,
            change: { role: s.entitledRole!, action: 'grant', expiresAt: s.entitlementExpiresAt },
            reason: 'reconcile: missing in auth',
          });
          missingGranted++;
        }
        for (const [key, grant] of held) {
          if (wanted.has(key)) continue;
          await enqueueRoleSync(sqlOf(tx), deps.boss, {
            userId: grant.userId,
            subscriptionId: subscriptionIdOf(grant.source) ?? grant.source,
            change: { role: grant.role, action: 'revoke', expiresAt: null },
            reason: 'reconcile: not entitled',
          });
          extraRevoked++;
        }
      },
      { timeout: 120_000 },
    );
    const purchases = await reconcilePurchaseGrants();
    const entitlementsRepushed = await repushEntitlements();
    return {
      grantsInAuth: held.size,
      entitled: entitled.length,
      missingGranted,
      extraRevoked,
      purchases,
      entitlementsRepushed,
    };
  }

  /** The same comparison for grants one-time purchases pay for (source `purchase:<id>`). */
  async function reconcilePurchaseGrants(): Promise<ReconcileReport['purchases']> {
    const held = new Map<string, AuthGrant>();
    for await (const grant of deps.listAuthGrants(PURCHASE_SOURCE_PREFIX))
      held.set(`${grant.userId}|${grant.role}|${grant.source}`, grant);
    const now = deps.clock.now();
    const paid = await db.purchase.findMany({ where: { status: 'paid' } });
    const roles = new Map(
      (
        await db.product.findMany({
          where: { id: { in: [...new Set(paid.map((p) => p.productId))] } },
          select: { id: true, role: true },
        })
      ).map((p) => [p.id, p.role]),
    );
    const report = { grantsInAuth: held.size, missingGranted: 0, extraRevoked: 0 };
    const wanted = new Set<string>();
    await db.$transaction(
      async (tx) => {
        for (const p of paid) {
          const role = roles.get(p.productId);
          if (!role || !purchaseGrants(p, now)) continue;
          const key = `${p.userId}|${role}|${purchaseSource(p.id)}`;
          wanted.add(key);
          if (held.has(key)) continue;
          await enqueueRoleSync(sqlOf(tx), deps.boss, {
            userId: p.userId,
            subscriptionId: p.id,
            source: purchaseSource(p.id),
            change: { role, action: 'grant', expiresAt: p.expiresAt },
            reason: 'reconcile: missing in auth',
          });
          report.missingGranted++;
        }
        for (const [key, grant] of held) {
          if (wanted.has(key)) continue;
          await enqueueRoleSync(sqlOf(tx), deps.boss, {
            userId: grant.userId,
            subscriptionId: grant.source.slice(PURCHASE_SOURCE_PREFIX.length),
            source: grant.source,
            change: { role: grant.role, action: 'revoke', expiresAt: null },
            reason: 'reconcile: not entitled',
          });
          report.extraRevoked++;
        }
      },
      { timeout: 120_000 },
    );
    return report;
  }

  /**
   * Hands auth every user's newest entitlements again (auth keeps the highest
   * version, so this is harmless where it already has it, and repairs an auth
   * that lost them): the newest change row of each user is queued once more.
   */
  async function repushEntitlements(): Promise<number> {
    const users = await db.userEntitlements.findMany({ select: { userId: true, version: true } });
    let queued = 0;
    for (let i = 0; i < users.length; i += PAGE) {
      await db.$transaction(
        async (tx) => {
          for (const { userId, version } of users.slice(i, i + PAGE)) {
            const change = await tx.entitlementChange.findUnique({
              where: { userId_version: { userId, version } },
              select: { id: true },
            });
            if (!change) continue;
            const jobId = await deps.boss.send(
              QUEUES.entitlementSync,
              { changeId: change.id },
              { db: txDb(tx) },
            );
            await tx.entitlementChange.update({
              where: { id: change.id },
              data: { status: 'pending', jobId },
            });
            queued++;
          }
        },
        { timeout: 60_000 },
      );
    }
    return queued;
  }

  return { run, reconcile, reapplyMirror };
}

/** The sync over a billing context, with auth's grants listed through billing's service client. */
export function stripeSyncFor(billing: Billing) {
  return createStripeSync({
    db: billing.db,
    stripe: billing.stripe,
    boss: billing.boss,
    clock: billing.clock,
    dunning: billing.config.dunning,
    listAuthGrants: (sourcePrefix) => billing.authRoles.listGrants(sourcePrefix),
  });
}
