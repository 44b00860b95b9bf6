/**
 * Subscriptions: creation (directly or from Checkout), updates (cancel at
 * period end / at a time, resume, payment method, plan change with
 * prorations), immediate cancel, and what time does to them (renewal, failed
 * renewals, scheduled ends). Billing periods live on the items, as in the API
 * version the SDK pins; subscriptions are in flexible billing mode, the
 * default for new subscriptions since 2025-09-30.clover.
 */
import type Stripe from 'stripe';
import { chargeOutcome } from './cards.js';
import { requirePrice } from './catalogue.js';
import { AUTOMATIC, type Emulator, type RequestInfo } from './emulator.js';
import { cardError, invalidRequest, missingParam } from './errors.js';
import { newId } from './ids.js';
import {
  attemptPayment,
  createInvoice,
  customerIdOf,
  finalizeInvoice,
  reactivateAfterPayment,
  subscriptionOf,
} from './invoices.js';
import { paginate } from './list.js';
import {
  buildInvoiceItem,
  buildSubscription,
  buildSubscriptionItem,
  type InvoiceLineInput,
} from './objects.js';
import { matchesRange, Params } from './params.js';

type Interval = Stripe.Price.Recurring.Interval;
export type PaymentBehavior =
  | 'allow_incomplete'
  | 'error_if_incomplete'
  | 'default_incomplete'
  | 'pending_if_incomplete';

const DAY = 86400;
/** Stripe expires an incomplete subscription 23 hours after creation. */
export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;
const ENDED = ['canceled', 'incomplete_expired'];

/** The n-th period boundary after `anchor`, keeping the anchor's day of month where the month has it. */
export function addIntervals(anchor: number, interval: Interval, count: number, n: number): number {
  const d = new Date(anchor * 1000);
  switch (interval) {
    case 'day':
      return anchor + n * count * DAY;
    case 'week':
      return anchor + n * count * 7 * DAY;
    case 'month':
    case 'year': {
      const months = (interval === 'year' ? 12 : 1) * count * n;
      const targetMonth = d.getUTCMonth() + months;
      const year = d.getUTCFullYear() + Math.floor(targetMonth / 12);
      const month = ((targetMonth % 12) + 12) % 12;
      const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
      const day = Math.min(d.getUTCDate(), lastDay);
      return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
    }
    default:
      return anchor + n * count * 30 * DAY;
  }
}

function recurringOf(price: Stripe.Price, param: string): { interval: Interval; count: number } {
  if (!price.recurring) {
    throw invalidRequest(
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      param,
    );
  }
  return { interval: price.recurring.interval, count: price.recurring.interval_count };
}

/** The end of the period that contains `start`, counted from the billing cycle anchor. */
export function nextBoundary(anchor: number, price: Stripe.Price, after: number): number {
  const { interval, count } = recurringOf(price, 'price');
  let n = 1;
  let end = addIntervals(anchor, interval, count, n);
  while (end <= after) end = addIntervals(anchor, interval, count, ++n);
  return end;
}

export function periodOf(sub: Stripe.Subscription): { start: number; end: number } {
  const first = sub.items.data[0];
  return { start: first?.current_period_start ?? sub.created, end: first?.current_period_end ?? sub.created };
}

function productName(em: Emulator, price: Stripe.Price): string {
  const id = typeof price.product === 'string' ? price.product : price.product.id;
  return em.store.products.get(id)?.name ?? id;
}

function money(amount: number, currency: string): string {
  return `${currency === 'usd' ? '$' : `${currency.toUpperCase()} `}${(amount / 100).toFixed(2)}`;
}

function itemLine(em: Emulator, sub: Stripe.Subscription, item: Stripe.SubscriptionItem): InvoiceLineInput {
  const quantity = item.quantity ?? 1;
  const unit = item.price.unit_amount ?? 0;
  const interval = item.price.recurring?.interval ?? 'month';
  return {
    amount: unit * quantity,
    description: `${quantity} × ${productName(em, item.price)} (at ${money(unit, item.price.currency)} / ${interval})`,
    price: item.price,
    quantity,
    periodStart: item.current_period_start,
    periodEnd: item.current_period_end,
    subscription: sub.id,
    subscriptionItem: item.id,
    proration: false,
    invoiceItem: null,
  };
}

function setCustomerCurrency(
  em: Emulator,
  customer: Stripe.Customer,
  currency: string,
  at: number,
  req: RequestInfo,
) {
  if (customer.currency) {
    if (customer.currency !== currency) {
      throw invalidRequest(
        `You cannot combine currencies on a single customer. This customer has had a subscription or payment in ${customer.currency}, but you are trying to pay in ${currency}.`,
        'currency',
      );
    }
    return;
  }
  const before = structuredClone(customer);
  customer.currency = currency;
  em.emit('customer.updated', customer, { previous: before, request: req, at });
}

export interface NewItem {
  price: Stripe.Price;
  quantity: number;
  metadata: Stripe.Metadata;
}

export interface StartSubscriptionInput {
  customer: Stripe.Customer;
  items: NewItem[];
  paymentMethod: string | null;
  metadata: Stripe.Metadata;
  description: string | null;
  at: number;
  request: RequestInfo;
  paymentBehavior: PaymentBehavior;
  /** Checkout has charged the card already with this PaymentIntent; the invoice records it as its payment. */
  paidByCheckout: Stripe.PaymentIntent | null;
}

/**
 * Creates a subscription with its first invoice and charges it. Since API
 * version 2025-03-31 a successful first payment means it is born `active`.
 */
export function startSubscription(em: Emulator, input: StartSubscriptionInput): Stripe.Subscription {
  const { customer, at, request } = input;
  if (input.items.length === 0) throw missingParam('items');
  const first = input.items[0] as NewItem;
  const currency = first.price.currency;
  const { interval, count } = recurringOf(first.price, 'items[0][price]');
  input.items.forEach((item, i) => {
    const r = recurringOf(item.price, `items[${i}][price]`);
    if (r.interval !== interval || r.count !== count || item.price.currency !== currency) {
      throw invalidRequest(
        'The price specified has a different currency or billing interval than the other items on this subscription.',
        `items[${i}][price]`,
      );
    }
  });
  if (customer.currency && customer.currency !== currency)
    setCustomerCurrency(em, customer, currency, at, request);

  const record = input.paymentMethod ? em.store.paymentMethods.get(input.paymentMethod) : undefined;
  if (!record && input.paymentBehavior !== 'default_incomplete') {
    throw invalidRequest(
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority.',
      undefined,
      'resource_missing',
    );
  }
  const decline =
    record && input.paymentBehavior !== 'default_incomplete' ? chargeOutcome(record.behaviour) : null;
  if (decline && input.paymentBehavior === 'error_if_incomplete') {
    throw cardError(decline.code, decline.declineCode, decline.message);
  }

  const id = newId('sub');
  const periodEnd = addIntervals(at, interval, count, 1);
  const items = input.items.map((item) =>
    buildSubscriptionItem({
      created: at,
      price: item.price,
      quantity: item.quantity,
      subscription: id,
      periodStart: at,
      periodEnd,
      metadata: item.metadata,
    }),
  );
  const sub = buildSubscription({
    id,
    created: at,
    customer: customer.id,
    currency,
    items,
    defaultPaymentMethod:
      input.paymentMethod && !customerDefaultIs(customer, input.paymentMethod) ? input.paymentMethod : null,
    metadata: input.metadata,
    status: 'incomplete',
    testClock: customer.test_clock ? String(customer.test_clock) : null,
    description: input.description,
  });
  setCustomerCurrency(em, customer, currency, at, request);

  const invoiceId = newId('in');
  sub.latest_invoice = invoiceId;
  const paysNow = record !== undefined && decline === null && input.paymentBehavior !== 'default_incomplete';
  if (paysNow) sub.status = 'active';
  em.store.subscriptions.put(sub);
  em.emit('customer.subscription.created', sub, { request, at });

  const invoice = createInvoice(em, {
    id: invoiceId,
    customer,
    subscription: sub,
    billingReason: 'subscription_create',
    lines: items.map((item) => itemLine(em, sub, item)),
    periodStart: at,
    periodEnd: at,
    at,
    autoAdvance: false,
    request,
  });
  finalizeInvoice(em, invoice, at, request);
  if (input.paymentBehavior !== 'default_incomplete' && invoice.status === 'open') {
    attemptPayment(em, invoice, at, request, { scheduleRetry: false, paidBy: input.paidByCheckout });
    if (input.paidByCheckout) invoice.attempt_count = 0;
  }
  return sub;
}

function customerDefaultIs(customer: Stripe.Customer, pm: string): boolean {
  const d = customer.invoice_settings.default_payment_method;
  return (typeof d === 'string' ? d : d?.id) === pm;
}

const CREATE = [
  'customer',
  'items',
  'default_payment_method',
  'metadata',
  'payment_behavior',
  'description',
  'cancel_at_period_end',
  'cancel_at',
  'proration_behavior',
  'collection_method',
  'off_session',
  'payment_settings',
];

export function createSubscription(em: Emulator, p: Params, req: RequestInfo): Stripe.Subscription {
  const params = new Params(p.raw, CREATE);
  const customer = em.store.customers.require(params.requiredString('customer'), 'customer');
  const itemParams = params.array('items');
  if (!itemParams || itemParams.length === 0) throw missingParam('items');
  const items = itemParams.map((raw, i) => {
    const item = new Params(raw, ['price', 'quantity', 'metadata'], `items[${i}]`);
    return {
      price: requirePrice(em, item.requiredString('price'), `items[${i}][price]`),
      quantity: item.integer('quantity') ?? 1,
      metadata: item.metadata() ?? {},
    };
  });
  let pm = params.string('default_payment_method') || null;
  if (pm) requireAttached(em, customer.id, pm, 'default_payment_method');
  else {
    const d = customer.invoice_settings.default_payment_method;
    pm = (typeof d === 'string' ? d : d?.id) ?? null;
  }
  const sub = startSubscription(em, {
    customer,
    items,
    paymentMethod: pm,
    metadata: params.metadata() ?? {},
    description: params.nullableString('description') ?? null,
    at: em.timeOf(customer.test_clock),
    request: req,
    paymentBehavior:
      params.oneOf('payment_behavior', [
        'allow_incomplete',
        'error_if_incomplete',
        'default_incomplete',
        'pending_if_incomplete',
      ]) ?? 'allow_incomplete',
    paidByCheckout: null,
  });
  if (params.has('cancel_at_period_end') || params.has('cancel_at')) {
    const cancel = new Params({
      ...(params.has('cancel_at_period_end')
        ? { cancel_at_period_end: params.raw.cancel_at_period_end }
        : {}),
      ...(params.has('cancel_at') ? { cancel_at: params.raw.cancel_at } : {}),
    });
    return updateSubscription(em, sub.id, cancel, req);
  }
  return sub;
}

function requireAttached(em: Emulator, customerId: string, pmId: string, param: string): void {
  const record = em.store.paymentMethods.get(pmId);
  if (!record || record.pm.customer !== customerId) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`,
      param,
      'resource_missing',
    );
  }
}

export function retrieveSubscription(em: Emulator, id: string): Stripe.Subscription {
  return em.store.subscriptions.require(id);
}

export function listSubscriptions(em: Emulator, p: Params): Stripe.ApiList<Stripe.Subscription> {
  const customer = p.string('customer');
  const price = p.string('price');
  const status = p.string('status');
  const testClock = p.string('test_clock');
  const items = em.store.subscriptions
    .newestFirst()
    .filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.data.some((i) => i.price.id === price)) &&
        (testClock === undefined || s.test_clock === testClock) &&
        (status === 'all' || (status === undefined ? !ENDED.includes(s.status) : s.status === status)) &&
        matchesRange(p, 'created', s.created),
    );
  return paginate(items, p, '/v1/subscriptions', 'subscription');
}

const UPDATE = [
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
];

type ProrationBehavior = 'create_prorations' | 'none' | 'always_invoice';

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
  const metadata = params.metadata(sub.metadata);
  if (ENDED.includes(sub.status)) {
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
  if (metadata) sub.metadata = metadata;
  if (params.has('description')) sub.description = params.nullableString('description') ?? null;
  const details = params.object('cancellation_details', ['comment', 'feedback']);
  if (details && sub.cancellation_details) {
    if (details.has('comment')) sub.cancellation_details.comment = details.nullableString('comment') ?? null;
    if (details.has('feedback')) {
      sub.cancellation_details.feedback =
        (details.nullableString('feedback') as Stripe.Subscription.CancellationDetails.Feedback | null) ??
        null;
    }
  }
  if (params.has('default_payment_method')) {
    const pm = params.nullableString('default_payment_method') ?? null;
    if (pm) requireAttached(em, customerIdOf(sub.customer as string), pm, 'default_payment_method');
    sub.default_payment_method = pm;
  }
  const { end } = periodOf(sub);
  if (params.has('cancel_at_period_end')) {
    const flag = params.boolean('cancel_at_period_end') ?? false;
    if (flag) scheduleCancel(sub, end, true, at);
    else clearCancel(sub);
  }
  if (params.has('cancel_at')) {
    const raw = params.string('cancel_at');
    if (raw === '') clearCancel(sub);
    else if (raw === 'min_period_end' || raw === 'max_period_end') scheduleCancel(sub, end, false, at);
    else {
      const when = params.integer('cancel_at') ?? 0;
      if (when <= at) throw invalidRequest('cancel_at must be in the future.', 'cancel_at');
      scheduleCancel(sub, when, false, at);
    }
  }
  const prorationDate = params.integer('proration_date') ?? at;
  const behavior =
    params.oneOf<ProrationBehavior>('proration_behavior', ['create_prorations', 'none', 'always_invoice']) ??
    'create_prorations';
  const itemParams = params.array('items');
  const prorations: InvoiceLineInput[] = [];
  let resetCycle = false;
  if (itemParams) {
    const result = applyItemChanges(em, sub, itemParams, prorationDate);
    prorations.push(...result.prorations);
    resetCycle = result.resetCycle;
  }

  if (resetCycle) {
    for (const item of sub.items.data) {
      item.current_period_start = at;
      item.current_period_end = nextBoundary(at, item.price, at);
    }
    sub.billing_cycle_anchor = at;
  }
  if (JSON.stringify(before) === JSON.stringify(sub)) return sub;

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
        subscriptionItem: line.subscriptionItem ?? '',
        price: line.price,
        amount: line.amount,
        quantity: line.quantity,
        description: line.description,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        testClock: sub.test_clock ? String(sub.test_clock) : null,
      });
      em.store.invoiceItems.put(item);
      em.emit('invoiceitem.created', item, { request: req, at });
    }
  }
  if (invoiceId) {
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
  return sub;
}

function scheduleCancel(sub: Stripe.Subscription, when: number, atPeriodEnd: boolean, at: number): void {
  sub.cancel_at = when;
  sub.cancel_at_period_end = atPeriodEnd;
  sub.canceled_at = at;
  sub.cancellation_details = {
    comment: sub.cancellation_details?.comment ?? null,
    feedback: sub.cancellation_details?.feedback ?? null,
    feedback_option: null,
    reason: 'cancellation_requested',
  };
}

function clearCancel(sub: Stripe.Subscription): void {
  sub.cancel_at = null;
  sub.cancel_at_period_end = false;
  sub.canceled_at = null;
  sub.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: null };
}

function applyItemChanges(
  em: Emulator,
  sub: Stripe.Subscription,
  itemParams: unknown[],
  at: number,
): { prorations: InvoiceLineInput[]; resetCycle: boolean } {
  const { start, end } = periodOf(sub);
  const remaining = end > start ? Math.min(Math.max((end - at) / (end - start), 0), 1) : 0;
  const prorations: InvoiceLineInput[] = [];
  let resetCycle = false;
  const current = sub.items.data[0];
  const when = new Date(at * 1000).toISOString().slice(0, 10);
  itemParams.forEach((raw, i) => {
    const ip = new Params(
      raw,
      ['id', 'price', 'quantity', 'deleted', 'metadata', 'clear_usage'],
      `items[${i}]`,
    );
    const itemId = ip.string('id');
    const existing = itemId ? sub.items.data.find((x) => x.id === itemId) : undefined;
    if (itemId && !existing) {
      throw invalidRequest(`Invalid subscription_item id: ${itemId}`, `items[${i}][id]`, 'resource_missing');
    }
    if (existing && ip.boolean('deleted')) {
      prorations.push(
        prorationLine(em, sub, existing, existing.price, existing.quantity ?? 1, -remaining, at, end, when),
      );
      sub.items.data = sub.items.data.filter((x) => x !== existing);
      return;
    }
    const priceId = ip.string('price');
    const price = priceId ? requirePrice(em, priceId, `items[${i}][price]`) : existing?.price;
    if (!price) throw missingParam(`items[${i}][price]`);
    const quantity = ip.integer('quantity') ?? existing?.quantity ?? 1;
    const r = recurringOf(price, `items[${i}][price]`);
    const ref = current?.price.recurring;
    if (ref && (ref.interval !== r.interval || ref.interval_count !== r.count)) resetCycle = true;
    if (existing) {
      const changed = existing.price.id !== price.id || (existing.quantity ?? 1) !== quantity;
      if (changed) {
        prorations.push(
          prorationLine(em, sub, existing, existing.price, existing.quantity ?? 1, -remaining, at, end, when),
        );
        existing.price = price;
        existing.plan = planFor(price);
        existing.quantity = quantity;
        prorations.push(prorationLine(em, sub, existing, price, quantity, remaining, at, end, when));
      }
      const md = ip.metadata(existing.metadata);
      if (md) existing.metadata = md;
    } else {
      const item = buildSubscriptionItem({
        created: at,
        price,
        quantity,
        subscription: sub.id,
        periodStart: start,
        periodEnd: end,
        metadata: ip.metadata() ?? {},
      });
      sub.items.data.push(item);
      prorations.push(prorationLine(em, sub, item, price, quantity, remaining, at, end, when));
    }
  });
  if (sub.items.data.length === 0)
    throw invalidRequest('A subscription must have at least one active item.', 'items');
  return { prorations, resetCycle };
}

function planFor(price: Stripe.Price): Stripe.Plan {
  return buildSubscriptionItem({
    created: 0,
    price,
    quantity: 1,
    subscription: '',
    periodStart: 0,
    periodEnd: 0,
    metadata: {},
  }).plan;
}

function prorationLine(
  em: Emulator,
  sub: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
  price: Stripe.Price,
  quantity: number,
  share: number,
  at: number,
  end: number,
  when: string,
): InvoiceLineInput {
  const amount = Math.round((price.unit_amount ?? 0) * quantity * share);
  const what = `${quantity} × ${productName(em, price)}`;
  return {
    amount,
    description:
      share < 0 ? `Unused time on ${what} after ${when}` : `Remaining time on ${what} after ${when}`,
    price,
    quantity,
    periodStart: at,
    periodEnd: end,
    subscription: sub.id,
    subscriptionItem: item.id,
    proration: true,
    invoiceItem: null,
  };
}

export function cancelSubscriptionNow(
  em: Emulator,
  sub: Stripe.Subscription,
  req: RequestInfo,
  reason: Stripe.Subscription.CancellationDetails.Reason,
  at = em.timeOf(sub.test_clock),
): Stripe.Subscription {
  if (ENDED.includes(sub.status)) {
    throw invalidRequest(
      `No such subscription: '${sub.id}' is already canceled.`,
      undefined,
      'resource_missing',
    );
  }
  sub.status = 'canceled';
  sub.canceled_at = at;
  sub.ended_at = at;
  sub.cancel_at = null;
  sub.cancel_at_period_end = false;
  sub.cancellation_details = {
    comment: sub.cancellation_details?.comment ?? null,
    feedback: sub.cancellation_details?.feedback ?? null,
    feedback_option: null,
    reason,
  };
  em.emit('customer.subscription.deleted', sub, { request: req, at });
  return sub;
}

export function cancelSubscription(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.Subscription {
  const params = new Params(p.raw, ['invoice_now', 'prorate', 'cancellation_details']);
  const sub = em.store.subscriptions.require(id);
  if (ENDED.includes(sub.status)) {
    throw invalidRequest(
      'A canceled subscription can only update its cancellation_details and metadata.',
      undefined,
      'subscription_canceled',
    );
  }
  const details = params.object('cancellation_details', ['comment', 'feedback']);
  if (details && sub.cancellation_details) {
    sub.cancellation_details.comment = details.nullableString('comment') ?? null;
    sub.cancellation_details.feedback =
      (details.nullableString('feedback') as Stripe.Subscription.CancellationDetails.Feedback | null) ?? null;
  }
  // Stripe records no idempotency key on the event of a DELETE.
  return cancelSubscriptionNow(em, sub, { id: req.id, idempotencyKey: null }, 'cancellation_requested');
}

export function markPastDue(em: Emulator, sub: Stripe.Subscription, at: number): void {
  if (sub.status !== 'active' && sub.status !== 'trialing') return;
  const before = structuredClone(sub);
  sub.status = 'past_due';
  em.emit('customer.subscription.updated', sub, { previous: before, at });
}

// ---- what time does ----------------------------------------------------------

/** Ends a subscription whose `cancel_at` has come. */
export function endScheduledCancel(em: Emulator, sub: Stripe.Subscription): void {
  const at = sub.cancel_at ?? em.timeOf(sub.test_clock);
  sub.status = 'canceled';
  sub.ended_at = at;
  em.emit('customer.subscription.deleted', sub, { at });
}

/** Rolls the items into the next period and opens the renewal invoice (a draft that finalizes later). */
export function renewSubscription(em: Emulator, sub: Stripe.Subscription): void {
  const before = structuredClone(sub);
  const { start: oldStart, end: oldEnd } = periodOf(sub);
  for (const item of sub.items.data) {
    item.current_period_start = oldEnd;
    item.current_period_end = nextBoundary(sub.billing_cycle_anchor, item.price, oldEnd);
  }
  const customer = em.store.customers.get(customerIdOf(sub.customer as string));
  if (!customer) return;
  const pending = [...em.store.invoiceItems.items.values()].filter(
    (ii) => ii.invoice === null && ii.parent?.subscription_details?.subscription === sub.id,
  );
  const invoiceId = newId('in');
  sub.latest_invoice = invoiceId;
  em.emit('customer.subscription.updated', sub, { previous: before, at: oldEnd });
  const lines: InvoiceLineInput[] = [
    ...pending.map((ii) => {
      const price =
        em.store.prices.get(String(ii.pricing?.price_details?.price ?? '')) ?? sub.items.data[0]?.price;
      return {
        amount: ii.amount,
        description: ii.description ?? '',
        price: price as Stripe.Price,
        quantity: ii.quantity,
        periodStart: ii.period.start,
        periodEnd: ii.period.end,
        subscription: sub.id,
        subscriptionItem: ii.parent?.subscription_details?.subscription_item ?? null,
        proration: true,
        invoiceItem: ii.id,
      };
    }),
    ...sub.items.data.map((i) => itemLine(em, sub, i)),
  ];
  createInvoice(em, {
    id: invoiceId,
    customer,
    subscription: sub,
    billingReason: 'subscription_cycle',
    lines,
    periodStart: oldStart,
    periodEnd: oldEnd,
    at: oldEnd,
    autoAdvance: true,
    request: AUTOMATIC,
  });
  for (const ii of pending) ii.invoice = invoiceId;
}

/** A draft renewal invoice whose hour has passed: finalize it and charge it. */
export function finalizeAndCharge(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  finalizeInvoice(em, invoice, at, AUTOMATIC);
  if (invoice.status === 'open') chargeRenewal(em, invoice, at);
  else settle(em, invoice, at);
}

/** A scheduled (re)try of an open invoice. */
export function chargeRenewal(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  const result = attemptPayment(em, invoice, at, AUTOMATIC, { scheduleRetry: true });
  if (result.paid) {
    settle(em, invoice, at);
    return;
  }
  const subId = subscriptionOf(invoice);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  if (!sub || ENDED.includes(sub.status)) return;
  markPastDue(em, sub, at);
  if (invoice.next_payment_attempt !== null) return;
  // Retries are exhausted: do what the account's subscription settings say.
  invoice.auto_advance = false;
  switch (em.payments.afterFinalRetry) {
    case 'cancel':
      cancelSubscriptionNow(em, sub, AUTOMATIC, 'payment_failed', at);
      break;
    case 'unpaid': {
      const before = structuredClone(sub);
      sub.status = 'unpaid';
      em.emit('customer.subscription.updated', sub, { previous: before, at });
      break;
    }
    case 'past_due':
      break;
  }
}

function settle(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  const subId = subscriptionOf(invoice);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  if (sub) reactivateAfterPayment(em, sub, at, AUTOMATIC);
}

/** An incomplete subscription whose first payment never came. */
export function expireIncomplete(em: Emulator, sub: Stripe.Subscription, at: number): void {
  const before = structuredClone(sub);
  sub.status = 'incomplete_expired';
  sub.ended_at = at;
  em.emit('customer.subscription.updated', sub, { previous: before, at });
  const invoiceId = typeof sub.latest_invoice === 'string' ? sub.latest_invoice : sub.latest_invoice?.id;
  const invoice = invoiceId ? em.store.invoices.get(invoiceId) : undefined;
  if (invoice && invoice.status === 'open') {
    const prev = structuredClone(invoice);
    invoice.status = 'void';
    invoice.next_payment_attempt = null;
    invoice.status_transitions.voided_at = at;
    em.emit('invoice.voided', invoice, { at });
    em.emit('invoice.updated', invoice, { at, previous: prev });
  }
}
