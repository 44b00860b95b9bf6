/**
 * Processing of stored events: a handler table keyed by event type. Every
 * handler re-fetches the objects it touches from Stripe, so an event is only
 * a hint about what changed, never the data written. When Stripe answers 404
 * for the object an event names, nothing is written from the event: it is
 * `orphaned` (a signed event about an object Stripe does not know grants
 * nothing).
 */
import type { ChangeCause } from '@tollgate/contracts';
import type Stripe from 'stripe';
import type { Db, Sql } from '../../db/prisma.js';
import { idOf, isResourceMissing } from '../../stripe/client.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Checkout } from '../checkout/checkout.js';
import { upsertCustomer } from '../customers/customers.js';
import { type Invoices, invoiceSubscriptionId } from '../invoices/invoices.js';
import type { PlanChanges } from '../plans/plan-changes.js';
import type { Plans } from '../plans/plans.js';
import type { Trials } from '../plans/trials.js';
import type { Purchases } from '../purchases/purchases.js';
import type { SubscriptionSync, SyncResult } from '../subscriptions/subscription-sync.js';
import { HANDLED_EVENT_TYPES, type HandledEventType } from './event-types.js';

export type Outcome =
  | { status: 'processed' }
  | { status: 'ignored' }
  | { status: 'flagged'; reason: string }
  | { status: 'orphaned'; reason: string };

export interface ProcessorDeps {
  db: Db;
  sql: Sql;
  stripe: Stripe;
  catalog: Catalog;
  checkout: Pick<Checkout, 'sessionCompleted' | 'sessionChanged'>;
  invoices: Invoices;
  subscriptions: SubscriptionSync;
  purchases: Pick<Purchases, 'recordFromSession' | 'chargeRefunded'>;
  /** Re-derives one user's entitlements on their own (purchases a summary event may concern). */
  refreshEntitlements(userId: string, cause: ChangeCause): Promise<unknown>;
  plans: Pick<Plans, 'afterCheckout'> & { trials: Pick<Trials, 'recordTrialWillEnd'> };
  planChanges: Pick<PlanChanges, 'scheduleChanged'>;
}

/**
 * How an event is being run. `notBefore`: on a first attempt, its receipt on this
 * process's monotonic clock (performance.now()): a read of the object it names that began
 * later serves it (shared-runs.ts). Unset for replays and retries, which read afresh.
 */
export interface RunContext {
  notBefore?: number;
}

type Handler = (event: Stripe.Event, context: RunContext) => Promise<Outcome>;

/** The event as the cause of what its processing changes (audit log, auth's history). */
const eventCause = (event: Stripe.Event): ChangeCause => ({
  type: 'stripe_event',
  event_id: event.id,
  event_type: event.type,
});

const PROCESSED: Outcome = { status: 'processed' };

function unmapped(result: SyncResult): Outcome {
  return result.userId
    ? PROCESSED
    : {
        status: 'flagged',
        reason: `subscription ${result.subscriptionId} belongs to a customer no user maps to (set metadata.userId on the customer, then replay)`,
      };
}

function orphaned(event: Stripe.Event, error?: unknown): Outcome {
  const object = event.data.object as { id?: string; object?: string };
  const what = `${object.object ?? 'object'} ${object.id ?? '(no id)'}`;
  const detail = error ? ` (${(error as Error).message})` : '';
  return {
    status: 'orphaned',
    reason: `Stripe does not know the ${what} this event is about${detail}; nothing was applied from it`,
  };
}

export function createProcessor({
  db,
  sql,
  stripe,
  catalog,
  checkout,
  invoices,
  subscriptions,
  purchases,
  refreshEntitlements,
  plans,
  planChanges,
}: ProcessorDeps) {
  const syncSubscription: Handler = async (event, { notBefore }) => {
    return unmapped(
      await subscriptions.sync((event.data.object as Stripe.Subscription).id, eventCause(event), notBefore),
    );
  };

  const trialWillEnd: Handler = async (event) => {
    const id = (event.data.object as Stripe.Subscription).id;
    const result = await subscriptions.sync(id, eventCause(event));
    await plans.trials.recordTrialWillEnd(
      await stripe.subscriptions.retrieve(id),
      new Date(event.created * 1000),
    );
    return unmapped(result);
  };

  const scheduleChanged: Handler = async (event) => {
    await planChanges.scheduleChanged((event.data.object as Stripe.SubscriptionSchedule).id);
    return PROCESSED;
  };

  const checkoutCompleted: Handler = async (event, { notBefore }) => {
    // Re-fetched, recorded, and the customer's other open sessions expired (one subscription per user).
    const session = await checkout.sessionCompleted((event.data.object as Stripe.Checkout.Session).id);
    const customerId = idOf(session.customer);
    const userId = session.client_reference_id ?? session.metadata?.userId ?? null;
    if (customerId && !(await mappedTo(customerId, userId)))
      await upsertCustomer(db, await stripe.customers.retrieve(customerId), userId);
    const subscriptionId = idOf(session.subscription);
    const result = subscriptionId
      ? await subscriptions.sync(subscriptionId, eventCause(event), notBefore)
      : null;
    if (session.mode === 'payment') await purchases.recordFromSession(session, eventCause(event));
    // The trial decision (a card that had one gets none) and the discount, once the subscription is mirrored.
    await plans.afterCheckout(session);
    return result ? unmapped(result) : PROCESSED;
  };

  /**
   * The mirror already maps the customer to this user (billing made the customer for the
   * checkout): nothing for the session to add, so Stripe is not asked again for it.
   */
  async function mappedTo(customerId: string, userId: string | null): Promise<boolean> {
    if (!userId) return false;
    const { rows } = await sql.query({
      name: 'customer-mapped-to',
      text: 'SELECT 1 FROM customers WHERE id = $1 AND user_id::text = lower($2)',
      values: [customerId, userId],
    });
    return rows.length === 1;
  }

  const chargeRefunded: Handler = async (event) => {
    await purchases.chargeRefunded((event.data.object as Stripe.Charge).id, eventCause(event));
    return PROCESSED;
  };

  /**
   * Stripe says the customer's active entitlements changed: the features of
   * their products are re-read and every subscription of theirs re-applied,
   * so billing's derivation follows Stripe whichever event came first.
   */
  const entitlementSummaryUpdated: Handler = async (event) => {
    const summary = event.data.object as Stripe.Entitlements.ActiveEntitlementSummary;
    const customerId = summary.customer;
    const cause = eventCause(event);
    const live = await stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 });
    const products = new Set(
      live.data.flatMap((s) => s.items.data.map((item) => idOf(item.price.product) as string)),
    );
    for (const productId of products) await catalog.refreshProductFeatures(productId);
    const results = await subscriptions.syncCustomer(customerId, cause);
    const customer = await db.customer.findUnique({ where: { id: customerId }, select: { userId: true } });
    if (customer?.userId) await refreshEntitlements(customer.userId, cause);
    const unmappedResult = results.find((r) => !r.userId);
    return unmappedResult ? unmapped(unmappedResult) : PROCESSED;
  };

  const checkoutChanged: Handler = async (event) => {
    await checkout.sessionChanged((event.data.object as Stripe.Checkout.Session).id);
    return PROCESSED;
  };

  const invoiceChanged: Handler = async (event, { notBefore }) => {
    const object = event.data.object as Stripe.Invoice;
    if (!object.id) return { status: 'ignored' }; // invoice.upcoming has no id
    const invoice = await invoices.refresh(object.id, notBefore);
    if (!invoice) return orphaned(event);
    const subscriptionId = invoiceSubscriptionId(invoice);
    if (subscriptionId)
      return unmapped(await subscriptions.sync(subscriptionId, eventCause(event), notBefore));
    return PROCESSED;
  };

  const customerChanged: Handler = async (event) => {
    // A deleted customer is still retrievable (deleted: true); a 404 means Stripe never had it.
    await upsertCustomer(db, await stripe.customers.retrieve((event.data.object as Stripe.Customer).id));
    return PROCESSED;
  };

  const productChanged: Handler = async (event) => {
    await catalog.refreshProduct((event.data.object as Stripe.Product).id);
    return PROCESSED;
  };

  const priceChanged: Handler = async (event) => {
    await catalog.refreshPrice((event.data.object as Stripe.Price).id);
    return PROCESSED;
  };

  // Exactly the listed types: a type missing here, or one not listed, does not compile.
  const handlers: Record<HandledEventType, Handler> = {
    'checkout.session.completed': checkoutCompleted,
    'checkout.session.async_payment_succeeded': checkoutCompleted,
    'checkout.session.async_payment_failed': checkoutChanged,
    'checkout.session.expired': checkoutChanged,
    'customer.subscription.created': syncSubscription,
    'customer.subscription.updated': syncSubscription,
    'customer.subscription.deleted': syncSubscription,
    'customer.subscription.paused': syncSubscription,
    'customer.subscription.resumed': syncSubscription,
    'customer.subscription.pending_update_applied': syncSubscription,
    'customer.subscription.pending_update_expired': syncSubscription,
    'customer.subscription.trial_will_end': trialWillEnd,
    'subscription_schedule.updated': scheduleChanged,
    'subscription_schedule.released': scheduleChanged,
    'subscription_schedule.canceled': scheduleChanged,
    'subscription_schedule.completed': scheduleChanged,
    'invoice.created': invoiceChanged,
    'invoice.finalized': invoiceChanged,
    'invoice.updated': invoiceChanged,
    'invoice.paid': invoiceChanged,
    'invoice.payment_succeeded': invoiceChanged,
    'invoice.payment_failed': invoiceChanged,
    'invoice.payment_action_required': invoiceChanged,
    'invoice.voided': invoiceChanged,
    'invoice.marked_uncollectible': invoiceChanged,
    'customer.created': customerChanged,
    'customer.updated': customerChanged,
    'customer.deleted': customerChanged,
    'product.created': productChanged,
    'product.updated': productChanged,
    'product.deleted': productChanged,
    'price.created': priceChanged,
    'price.updated': priceChanged,
    'price.deleted': priceChanged,
    'charge.refunded': chargeRefunded,
    'entitlements.active_entitlement_summary.updated': entitlementSummaryUpdated,
  };

  /** Whether an event of this type is acted on (own keys only: nothing inherited from Object.prototype). */
  function handles(type: string): type is HandledEventType {
    return Object.hasOwn(handlers, type);
  }

  async function handle(event: Stripe.Event, context: RunContext = {}): Promise<Outcome> {
    if (!handles(event.type)) return { status: 'ignored' };
    const handler = handlers[event.type];
    try {
      return await handler(event, context);
    } catch (error) {
      // Stripe's 404 is an answer, not an outage: retrying will not make the object exist.
      if (isResourceMissing(error)) return orphaned(event, error);
      throw error;
    }
  }

  return { handle, handles, handledTypes: HANDLED_EVENT_TYPES as readonly string[] };
}

export type Processor = ReturnType<typeof createProcessor>;
