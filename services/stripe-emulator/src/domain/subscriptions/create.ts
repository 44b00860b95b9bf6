/**
 * Creating a subscription (directly or from Checkout): items, first invoice,
 * first payment. Subscriptions are in flexible billing mode, the default for
 * new subscriptions since 2025-09-30.clover.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidRequest, missingParam } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { Params } from '../core/params.js';
import { type DiscountRef, discountRefs, redeem } from '../discounts/apply.js';
import { attemptPayment, createInvoice, finalizeInvoice } from '../invoices/invoices.js';
import { chargeOutcome } from '../payments/cards.js';
import { requireCustomerPaymentMethod } from '../payments/payment-methods.js';
import { requirePrice } from '../products-prices/catalogue.js';
import { buildSubscription, buildSubscriptionItem } from './objects.js';
import { addIntervals, itemLine, recurringOf, trialLine } from './periods.js';
import { requestedTrialEnd, sendTrialWillEnd, startTrial, trialNoticeAt } from './trials.js';
import { updateSubscription } from './update.js';

export type PaymentBehavior =
  | 'allow_incomplete'
  | 'error_if_incomplete'
  | 'default_incomplete'
  | 'pending_if_incomplete';

export function setCustomerCurrency(
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
  /** End of a trial to start with, or null. */
  trialEnd?: number | null;
  /** Coupons and promotion codes to redeem into the subscription's discounts. */
  discounts?: DiscountRef[];
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

  const trialEnd = input.trialEnd ?? null;
  const record = input.paymentMethod ? em.store.paymentMethods.get(input.paymentMethod) : undefined;
  if (!record && input.paymentBehavior !== 'default_incomplete' && trialEnd === null) {
    throw invalidRequest(
      'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority.',
      undefined,
      'resource_missing',
    );
  }
  const decline =
    record && input.paymentBehavior !== 'default_incomplete' && trialEnd === null
      ? chargeOutcome(record.behaviour)
      : null;
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
  if (input.discounts?.length) {
    sub.discounts = redeem(em, input.discounts, { customer: customer.id, subscription: id }, at, request).map(
      (d) => d.id,
    );
  }
  setCustomerCurrency(em, customer, currency, at, request);

  const invoiceId = newId('in');
  sub.latest_invoice = invoiceId;
  const paysNow = record !== undefined && decline === null && input.paymentBehavior !== 'default_incomplete';
  if (trialEnd !== null) startTrial(sub, at, trialEnd);
  else if (paysNow) sub.status = 'active';
  em.store.subscriptions.put(sub);
  em.emit('customer.subscription.created', sub, { request, at });

  const invoice = createInvoice(em, {
    id: invoiceId,
    customer,
    subscription: sub,
    billingReason: 'subscription_create',
    lines: items.map((item) => (trialEnd === null ? itemLine(em, sub, item) : trialLine(em, sub, item))),
    periodStart: at,
    periodEnd: at,
    at,
    autoAdvance: false,
    request,
  });
  finalizeInvoice(em, invoice, at, request);
  if (trialEnd !== null && trialNoticeAt(em, sub) !== null && (trialNoticeAt(em, sub) ?? 0) <= at) {
    sendTrialWillEnd(em, sub, at);
  }
  if (input.paymentBehavior !== 'default_incomplete' && invoice.status === 'open') {
    attemptPayment(em, invoice, at, request, { scheduleRetry: false, paidBy: input.paidByCheckout });
    if (input.paidByCheckout) invoice.attempt_count = 0;
  }
  return sub;
}

export function customerDefaultIs(customer: Stripe.Customer, pm: string): boolean {
  const d = customer.invoice_settings.default_payment_method;
  return (typeof d === 'string' ? d : d?.id) === pm;
}

export const CREATE = [
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
  'trial_period_days',
  'trial_end',
  'trial_from_plan',
  'trial_settings',
  'discounts',
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
  if (pm) pm = requireCustomerPaymentMethod(em, customer.id, pm, 'default_payment_method', req).id;
  else {
    const d = customer.invoice_settings.default_payment_method;
    pm = (typeof d === 'string' ? d : d?.id) ?? null;
  }
  const at = em.timeOf(customer.test_clock);
  const sub = startSubscription(em, {
    customer,
    items,
    discounts: discountRefs(em, params, at, customer.id),
    trialEnd: requestedTrialEnd(
      params,
      at,
      items.map((i) => i.price),
    ),
    paymentMethod: pm,
    metadata: params.metadata() ?? {},
    description: params.nullableString('description') ?? null,
    at,
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
