/**
 * `POST /v1/subscriptions/:id`: each group of parameters is applied by its own
 * function (descriptive fields, cancellation, payment method, items), then one
 * `customer.subscription.updated` and whatever billing the change needs
 * (pending proration items, or an invoice charged now).
 */
import type Stripe from 'stripe';
import { AUTOMATIC, type Emulator, type RequestInfo } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { Params } from '../core/params.js';
import { discountRefs, endDiscount, redeem } from '../discounts/apply.js';
import { attemptPayment, createInvoice, customerIdOf, finalizeInvoice } from '../invoices/invoices.js';
import { buildInvoiceItem, type InvoiceLineInput } from '../invoices/objects.js';
import { requireCustomerPaymentMethod } from '../payments/payment-methods.js';
import { markPastDue } from './cancel.js';
import { ENDED, itemLine, nextBoundary } from './periods.js';
import { applyTrialEndParam } from './trials.js';
import { applyCancellationDetails, applyCancellationParams } from './update-cancel.js';
import { applyItemChanges } from './update-items.js';

export const UPDATE = [
  'cancel_at_period_end',
  'cancel_at',
  'default_payment_method',
  'metadata',
  'items',
  'proration_behavior',
  'proration_date',
  'description',
  'payment_behavior',
  'cancellation_details',
  'off_session',
  'billing_cycle_anchor',
  'trial_end',
  'discounts',
];

export type ProrationBehavior = 'create_prorations' | 'none' | 'always_invoice';

interface ItemChange {
  prorations: InvoiceLineInput[];
  resetCycle: boolean;
  behavior: ProrationBehavior;
}

function refuseIfEnded(sub: Stripe.Subscription, params: Params): void {
  if (!ENDED.includes(sub.status)) return;
  const onlyAllowed = Object.keys(params.raw).every((k) =>
    ['metadata', 'cancellation_details', 'expand'].includes(k),
  );
  if (!onlyAllowed) {
    throw invalidRequest(
      'A canceled subscription can only update its cancellation_details and metadata.',
      undefined,
      'subscription_canceled',
    );
  }
}

/** As at Stripe: a subscription a schedule manages changes its cancellation through the schedule. */
function refuseCancelUnderSchedule(sub: Stripe.Subscription, params: Params): void {
  if (!sub.schedule || !(params.has('cancel_at_period_end') || params.has('cancel_at'))) return;
  throw invalidRequest(
    `The subscription is managed by the subscription schedule \`${String(sub.schedule)}\`, and updating any cancelation behavior directly is not allowed. Please update the schedule instead.`,
  );
}

/** `discounts`: '' removes them all; a list replaces them with newly redeemed ones. */
function applyDiscountParams(
  em: Emulator,
  sub: Stripe.Subscription,
  params: Params,
  at: number,
  req: RequestInfo,
): void {
  if (!params.has('discounts')) return;
  const customer = customerIdOf(sub.customer as string);
  const next = params.isUnset('discounts') ? [] : discountRefs(em, params, at, customer);
  for (const id of sub.discounts) {
    const old = em.store.discounts.get(typeof id === 'string' ? id : id.id);
    if (old) endDiscount(em, old, at, req);
  }
  sub.discounts = redeem(em, next, { customer, subscription: sub.id }, at, req).map((d) => d.id);
}

function applyDescriptive(sub: Stripe.Subscription, params: Params): void {
  const metadata = params.metadata(sub.metadata);
  if (metadata) sub.metadata = metadata;
  if (params.has('description')) sub.description = params.nullableString('description') ?? null;
  applyCancellationDetails(sub, params);
}

function applyPaymentMethod(em: Emulator, sub: Stripe.Subscription, params: Params, req: RequestInfo): void {
  if (!params.has('default_payment_method')) return;
  const pm = params.nullableString('default_payment_method') ?? null;
  sub.default_payment_method = pm
    ? requireCustomerPaymentMethod(
        em,
        customerIdOf(sub.customer as string),
        pm,
        'default_payment_method',
        req,
      ).id
    : null;
}

/** `items`, `proration_behavior`, `proration_date`; a change of interval restarts the cycle now. */
function applyItems(em: Emulator, sub: Stripe.Subscription, params: Params, at: number): ItemChange {
  const behavior =
    params.oneOf<ProrationBehavior>('proration_behavior', ['create_prorations', 'none', 'always_invoice']) ??
    'create_prorations';
  const itemParams = params.array('items');
  if (!itemParams) return { prorations: [], resetCycle: false, behavior };
  const { prorations, resetCycle } = applyItemChanges(
    em,
    sub,
    itemParams,
    params.integer('proration_date') ?? at,
  );
  if (resetCycle) {
    for (const item of sub.items.data) {
      item.current_period_start = at;
      item.current_period_end = nextBoundary(at, item.price, at);
    }
    sub.billing_cycle_anchor = at;
  }
  return { prorations, resetCycle, behavior };
}

export function updateSubscription(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.Subscription {
  const params = new Params(p.raw, UPDATE);
  const sub = em.store.subscriptions.require(id);
  const at = em.timeOf(sub.test_clock);
  const before = structuredClone(sub);
  refuseIfEnded(sub, params);
  refuseCancelUnderSchedule(sub, params);
  applyDescriptive(sub, params);
  applyPaymentMethod(em, sub, params, req);
  applyCancellationParams(sub, params, at);
  const trialEndedNow = applyTrialEndParam(sub, params, at);
  applyDiscountParams(em, sub, params, at, req);
  const change = applyItems(em, sub, params, at);
  // A trial ended now starts the first paid period: it is billed at once, like a new cycle.
  if (trialEndedNow) change.resetCycle = true;
  if (JSON.stringify(before) === JSON.stringify(sub)) return sub;
  billChange(em, sub, before, change, req, at);
  return sub;
}

function billChange(
  em: Emulator,
  sub: Stripe.Subscription,
  before: Stripe.Subscription,
  change: ItemChange,
  req: RequestInfo,
  at: number,
): void {
  const { prorations, resetCycle, behavior } = change;
  const customer = em.store.customers.require(customerIdOf(sub.customer as string), 'customer');
  let invoiceLines: InvoiceLineInput[] = [];
  if (resetCycle) {
    invoiceLines = [
      ...(behavior === 'none' ? [] : prorations),
      ...sub.items.data.map((i) => itemLine(em, sub, i)),
    ];
  } else if (behavior === 'always_invoice') {
    invoiceLines = prorations;
  }
  const invoiceId = invoiceLines.length > 0 ? newId('in') : null;
  if (invoiceId) sub.latest_invoice = invoiceId;
  em.emit('customer.subscription.updated', sub, { previous: before, request: req, at });

  if (behavior === 'create_prorations' && !resetCycle) {
    for (const line of prorations) {
      const item = buildInvoiceItem({
        created: at,
        customer: customer.id,
        subscription: sub.id,
        subscriptionItem: line.subscriptionItem,
        price: line.price,
        currency: sub.currency,
        amount: line.amount,
        quantity: line.quantity,
        description: line.description,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        testClock: sub.test_clock ? String(sub.test_clock) : null,
        proration: true,
      });
      em.store.invoiceItems.put(item);
      em.emit('invoiceitem.created', item, { request: req, at });
    }
  }
  if (!invoiceId) return;
  const invoice = createInvoice(em, {
    id: invoiceId,
    customer,
    subscription: sub,
    billingReason: 'subscription_update',
    lines: invoiceLines,
    periodStart: at,
    periodEnd: at,
    at,
    autoAdvance: false,
    request: req,
  });
  finalizeInvoice(em, invoice, at, req);
  if (invoice.status === 'open') {
    const result = attemptPayment(em, invoice, at, AUTOMATIC, { scheduleRetry: true });
    if (!result.paid) markPastDue(em, sub, at);
  }
}
