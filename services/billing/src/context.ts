/**
 * Everything billing is made of, wired once: used by the HTTP app, the
 * standalone worker and the CLI commands alike.
 */
import { tracedFetch } from '@tollgate/service-kit';
import type Stripe from 'stripe';
import type { Config } from './config.js';
import { createDatabase, type Db, type SqlPool } from './db/prisma.js';
import { createAuditLog } from './domain/audit/audit-log.js';
import { createCatalog } from './domain/catalog/catalog.js';
import { createCheckout } from './domain/checkout/checkout.js';
import { createCheckoutSessions } from './domain/checkout/checkout-sessions.js';
import { type Clock, systemClock } from './domain/clock.js';
import { createCustomers } from './domain/customers/customers.js';
import { createEntitlementPushRunner } from './domain/entitlements/entitlement-push.js';
import {
  createEntitlementsReader,
  createEntitlementsRefresher,
} from './domain/entitlements/user-entitlements.js';
import { createInvoices } from './domain/invoices/invoices.js';
import { createLeases } from './domain/leases/leases.js';
import { addonProductIds } from './domain/plans/addons.js';
import { createPlanChanges } from './domain/plans/plan-changes.js';
import { createPlans } from './domain/plans/plans.js';
import { createPromotions } from './domain/plans/promotions.js';
import { createTrials } from './domain/plans/trials.js';
import { createPurchases } from './domain/purchases/purchases.js';
import { createAuthRolesClient, createEntitlementsSyncClient } from './domain/role-sync/auth-roles-client.js';
import { createRoleSyncAdmin } from './domain/role-sync/outbox.js';
import { createRoleSyncRunner } from './domain/role-sync/role-sync.js';
import { createSubscriptionSync } from './domain/subscriptions/subscription-sync.js';
import { createSubscriptionsService } from './domain/subscriptions/subscriptions.service.js';
import { createStripeCatchup } from './domain/webhooks/catchup.js';
import { createEventRunner } from './domain/webhooks/event-runner.js';
import { createInbox } from './domain/webhooks/inbox.js';
import { createProcessor } from './domain/webhooks/processor.js';
import { type BillingMetrics, createBillingMetrics } from './metrics.js';
import { type Boss, createBoss, startBoss } from './queue/queue.js';
import { createStripeClient } from './stripe/client.js';

export interface BillingDeps {
  /** The Prisma client and the pool under it (see createDatabase). */
  database?: { db: Db; sql: SqlPool };
  stripe?: Stripe;
  boss?: Boss;
  clock?: Clock;
  /** Default: a registry of this context's own (served at /metrics by the app). */
  metrics?: BillingMetrics;
}

export async function createBilling(config: Config, deps: BillingDeps = {}) {
  const { db, sql } = deps.database ?? createDatabase(config.databaseUrl, config.pools.database);
  const stripe = deps.stripe ?? createStripeClient(config.stripe);
  const boss = deps.boss ?? createBoss(config);
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createBillingMetrics(db);
  metrics.observeStripe(stripe);
  await startBoss(boss, config);

  const catalog = createCatalog({ db, sql, stripe, sellableProductIds: config.sellableProductIds });
  const authRoles = createAuthRolesClient({
    authUrl: config.auth.url,
    clientId: config.auth.clientId,
    clientSecret: config.auth.clientSecret,
    timeoutMs: config.auth.timeoutMs,
    // Client spans carrying traceparent, so auth's handling joins the trace.
    fetch: tracedFetch(),
  });
  const authEntitlements = createEntitlementsSyncClient({
    authUrl: config.auth.url,
    clientId: config.auth.clientId,
    clientSecret: config.auth.clientSecret,
    timeoutMs: config.auth.timeoutMs,
    // Client spans carrying traceparent, so auth's handling joins the trace.
    fetch: tracedFetch(),
  });
  const auditLog = createAuditLog({
    db,
    authHistory: (userId, limit) => authEntitlements.history(userId, limit),
  });
  const customers = createCustomers({ db, stripe, auth: authRoles });
  const invoices = createInvoices({ db, sql, stripe });
  const dunning = config.dunning;
  const subscriptionSync = createSubscriptionSync({ db, sql, stripe, boss, clock, dunning });
  const purchases = createPurchases({ db, stripe, boss, clock, dunning });
  const refreshEntitlements = createEntitlementsRefresher({ sql, boss, clock, policy: dunning });
  const entitlements = createEntitlementsReader({ sql });
  const subscriptions = createSubscriptionsService({ db, stripe, catalog, sync: subscriptionSync });
  const planChanges = createPlanChanges({ db, stripe, catalog, subscriptions, sync: subscriptionSync });
  const plans = createPlans({
    trials: createTrials({ db, stripe }),
    promotions: createPromotions({ db, stripe }),
    planChanges,
    subscriptions,
    catalog,
  });
  const checkout = createCheckout({
    ownedPurchase: purchases.ownedPurchase,
    stripe,
    catalog,
    customers,
    subscriptions,
    plans,
    addonProducts: () => addonProductIds(db),
    sessions: createCheckoutSessions({ sql }),
    leases: createLeases({ sql }),
    urls: config.urls,
  });
  const processor = createProcessor({
    db,
    sql,
    stripe,
    catalog,
    checkout,
    invoices,
    subscriptions: subscriptionSync,
    purchases,
    refreshEntitlements,
    plans,
    planChanges,
  });
  const inbox = createInbox({
    db,
    sql,
    boss,
    stripe,
    webhookSecret: config.stripe.webhookSecret,
    toleranceSeconds: config.stripe.webhookToleranceSeconds,
    handles: processor.handles,
    onIgnored: (createdAt) => metrics.eventRan('ignored', createdAt),
  });
  const eventRunner = createEventRunner({
    db,
    processor,
    onRan: (outcome, createdAt) => metrics.eventRan(outcome, createdAt),
  });
  const catchup = createStripeCatchup({
    db,
    stripe,
    accept: inbox.accept,
    handledTypes: processor.handledTypes,
    lookbackSeconds: config.worker.catchupLookbackSeconds,
    clock,
  });
  const roleSync = createRoleSyncRunner({ db, sql, auth: authRoles, clock });
  const entitlementPush = createEntitlementPushRunner({ sql, auth: authEntitlements });
  const roleSyncAdmin = createRoleSyncAdmin({ db, boss });

  return {
    config,
    db,
    metrics,
    stripe,
    boss,
    clock,
    catalog,
    customers,
    invoices,
    subscriptionSync,
    subscriptions,
    purchases,
    entitlements,
    refreshEntitlements,
    entitlementPush,
    plans,
    planChanges,
    checkout,
    inbox,
    processor,
    eventRunner,
    catchup,
    authRoles,
    authEntitlements,
    auditLog,
    roleSync,
    roleSyncAdmin,
    /** Stops the queue and closes what this context opened. */
    async close() {
      await inbox.flush();
      await boss.stop({ graceful: true, timeout: 10_000 });
      if (!deps.database) await db.$disconnect();
    },
  };
}

export type Billing = Awaited<ReturnType<typeof createBilling>>;
