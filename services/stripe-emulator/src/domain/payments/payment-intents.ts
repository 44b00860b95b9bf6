/**
 * PaymentIntents through the API: create (optionally confirming at once),
 * update, confirm, capture (manual capture), cancel. A declined confirmation
 * answers 402 with the PaymentIntent in the error, as Stripe does, after the
 * `payment_intent.payment_failed` and `charge.failed` events.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidParam, invalidRequest, missingParam } from '../core/errors.js';
import { Params } from '../core/params.js';
import type { PaymentMethodRecord } from '../core/store.js';
import { attachPaymentMethod, resolvePaymentMethod } from './payment-methods.js';
import { confirmPaymentIntent, createPaymentIntent } from './payments.js';

const CREATE = [
  'amount',
  'currency',
  'customer',
  'description',
  'metadata',
  'payment_method',
  'payment_method_types',
  'capture_method',
  'confirmation_method',
  'confirm',
  'return_url',
  'shipping',
  'receipt_email',
  'setup_future_usage',
  'off_session',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'automatic_payment_methods',
  'mandate_data',
  'error_on_requires_action',
  'use_stripe_sdk',
  'payment_method_options',
  'transfer_group',
];
const UPDATE = [
  'amount',
  'currency',
  'customer',
  'description',
  'metadata',
  'payment_method',
  'payment_method_types',
  'receipt_email',
  'setup_future_usage',
  'shipping',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'capture_method',
];
const CONFIRM = [
  'payment_method',
  'return_url',
  'off_session',
  'receipt_email',
  'setup_future_usage',
  'shipping',
  'mandate_data',
  'error_on_requires_action',
  'use_stripe_sdk',
  'payment_method_options',
  'capture_method',
];

const ADDRESS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'];

/** `shipping[name]`, `shipping[address][...]`, ... as the PaymentIntent stores them. */
export function shippingParam(
  params: Params,
  key = 'shipping',
): Stripe.PaymentIntent.Shipping | null | undefined {
  if (!params.has(key)) return undefined;
  if (params.isUnset(key)) return null;
  const s = params.object(key, ['name', 'address', 'carrier', 'phone', 'tracking_number']);
  if (!s) return undefined;
  const a = s.object('address', ADDRESS);
  if (!a) throw missingParam(`${key}[address]`);
  return {
    address: {
      city: a.string('city') ?? null,
      country: a.string('country') ?? null,
      line1: a.string('line1') ?? null,
      line2: a.string('line2') ?? null,
      postal_code: a.string('postal_code') ?? null,
      state: a.string('state') ?? null,
    },
    carrier: s.string('carrier') ?? null,
    name: s.requiredString('name'),
    phone: s.string('phone') ?? null,
    tracking_number: s.string('tracking_number') ?? null,
  };
}

function customerOf(pi: Stripe.PaymentIntent): string | null {
  return typeof pi.customer === 'string' ? pi.customer : (pi.customer?.id ?? null);
}

function setPaymentMethod(em: Emulator, pi: Stripe.PaymentIntent, id: string): PaymentMethodRecord {
  const record = resolvePaymentMethod(em, id);
  const owner = record.pm.customer;
  if (owner && owner !== customerOf(pi)) {
    throw invalidRequest(
      `The provided PaymentMethod belongs to a customer (${String(owner)}), but this PaymentIntent is for another customer.`,
      'payment_method',
    );
  }
  pi.payment_method = record.id;
  if (pi.status === 'requires_payment_method') pi.status = 'requires_confirmation';
  return record;
}

/** Runs one confirmation; a decline throws Stripe's 402 naming the PaymentIntent. */
function confirm(em: Emulator, pi: Stripe.PaymentIntent, req: RequestInfo): Stripe.PaymentIntent {
  const pmId = typeof pi.payment_method === 'string' ? pi.payment_method : pi.payment_method?.id;
  if (!pmId) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with a payment method, pass one in `payment_method`.",
      undefined,
      'payment_intent_unexpected_state',
    );
  }
  const record = resolvePaymentMethod(em, pmId);
  const customer = customerOf(pi);
  const at = em.timeOfCustomer(customer);
  const result = confirmPaymentIntent(em, pi, record, at, req);
  if (!result.paid && result.decline) {
    throw cardError(result.decline.code, result.decline.declineCode, result.decline.message, {
      charge: result.charge.id,
      payment_intent: structuredClone(pi),
      payment_method: structuredClone(record.pm),
    });
  }
  // A card set up for future use is saved to the customer once the payment succeeds.
  if (customer && pi.setup_future_usage && !record.pm.customer) {
    attachPaymentMethod(em, record.id, customer, req, at);
  }
  return pi;
}

function requireStatus(
  pi: Stripe.PaymentIntent,
  allowed: Stripe.PaymentIntent.Status[],
  action: string,
): void {
  if (allowed.includes(pi.status)) return;
  throw invalidRequest(
    `This PaymentIntent's ${action} could not be performed because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be ${action === 'capture' ? 'captured' : action === 'cancel' ? 'canceled' : 'confirmed'}: ${allowed.join(', ')}.`,
    undefined,
    'payment_intent_unexpected_state',
  );
}

export function createPaymentIntentApi(em: Emulator, p: Params, req: RequestInfo): Stripe.PaymentIntent {
  const params = new Params(p.raw, CREATE);
  const amount = params.integer('amount');
  if (amount === undefined) throw missingParam('amount');
  if (amount < 1) throw invalidParam('amount', 'Amount must be at least 1.', 'parameter_invalid_integer');
  const currency = params.requiredString('currency').toLowerCase();
  const customerId = params.string('customer') || null;
  if (customerId) em.store.customers.require(customerId, 'customer');
  const at = em.timeOfCustomer(customerId);
  const pi = createPaymentIntent(em, {
    amount,
    currency,
    customer: customerId,
    description: params.nullableString('description') ?? null,
    metadata: params.metadata() ?? {},
    receiptEmail: params.nullableString('receipt_email') ?? null,
    setupFutureUsage: params.oneOf('setup_future_usage', ['off_session', 'on_session'] as const) ?? null,
    at,
    request: req,
    configure: (draft) => {
      draft.capture_method =
        params.oneOf('capture_method', ['automatic', 'automatic_async', 'manual'] as const) ??
        'automatic_async';
      draft.confirmation_method =
        params.oneOf('confirmation_method', ['automatic', 'manual'] as const) ?? 'automatic';
      const types = params.stringArray('payment_method_types');
      if (types) draft.payment_method_types = types;
      draft.shipping = shippingParam(params) ?? null;
      draft.statement_descriptor = params.string('statement_descriptor') ?? null;
      draft.statement_descriptor_suffix = params.string('statement_descriptor_suffix') ?? null;
      const pm = params.string('payment_method');
      if (pm) setPaymentMethod(em, draft, pm);
    },
  });
  if (params.boolean('confirm')) confirm(em, pi, req);
  return pi;
}

export function updatePaymentIntent(
  em: Emulator,
  id: string,
  p: Params,
  _req: RequestInfo,
): Stripe.PaymentIntent {
  const params = new Params(p.raw, UPDATE);
  const pi = em.store.paymentIntents.require(id);
  requireStatus(pi, ['requires_payment_method', 'requires_confirmation', 'requires_action'], 'update');
  const amount = params.integer('amount');
  if (amount !== undefined) pi.amount = amount;
  const currency = params.string('currency');
  if (currency) pi.currency = currency.toLowerCase();
  if (params.has('customer')) {
    const customer = params.nullableString('customer') ?? null;
    if (customer) em.store.customers.require(customer, 'customer');
    pi.customer = customer;
  }
  if (params.has('description')) pi.description = params.nullableString('description') ?? null;
  if (params.has('receipt_email')) pi.receipt_email = params.nullableString('receipt_email') ?? null;
  const metadata = params.metadata(pi.metadata);
  if (metadata) pi.metadata = metadata;
  const shipping = shippingParam(params);
  if (shipping !== undefined) pi.shipping = shipping;
  if (params.has('setup_future_usage')) {
    pi.setup_future_usage =
      params.oneOf('setup_future_usage', ['off_session', 'on_session'] as const) ?? null;
  }
  const capture = params.oneOf('capture_method', ['automatic', 'automatic_async', 'manual'] as const);
  if (capture) pi.capture_method = capture;
  const pm = params.string('payment_method');
  if (pm) setPaymentMethod(em, pi, pm);
  em.changed();
  return pi;
}

export function confirmPaymentIntentApi(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.PaymentIntent {
  const params = new Params(p.raw, CONFIRM);
  const pi = em.store.paymentIntents.require(id);
  requireStatus(pi, ['requires_payment_method', 'requires_confirmation', 'requires_action'], 'confirm');
  const pm = params.string('payment_method');
  if (pm) setPaymentMethod(em, pi, pm);
  const shipping = shippingParam(params);
  if (shipping !== undefined) pi.shipping = shipping;
  if (params.has('receipt_email')) pi.receipt_email = params.nullableString('receipt_email') ?? null;
  const capture = params.oneOf('capture_method', ['automatic', 'automatic_async', 'manual'] as const);
  if (capture) pi.capture_method = capture;
  return confirm(em, pi, req);
}

export function capturePaymentIntent(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.PaymentIntent {
  const params = new Params(p.raw, [
    'amount_to_capture',
    'metadata',
    'statement_descriptor',
    'statement_descriptor_suffix',
    'final_capture',
  ]);
  const pi = em.store.paymentIntents.require(id);
  requireStatus(pi, ['requires_capture'], 'capture');
  const amount = params.integer('amount_to_capture') ?? pi.amount_capturable;
  if (amount < 1 || amount > pi.amount_capturable) {
    throw invalidParam(
      'amount_to_capture',
      `The amount to capture must be between 1 and the capturable amount (${pi.amount_capturable}).`,
      'amount_too_large',
    );
  }
  const at = em.timeOfCustomer(customerOf(pi));
  const chargeId = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
  const charge = chargeId ? em.store.charges.get(chargeId) : undefined;
  const metadata = params.metadata(pi.metadata);
  if (metadata) pi.metadata = metadata;
  pi.status = 'succeeded';
  pi.amount_capturable = 0;
  pi.amount_received = amount;
  if (charge) {
    charge.captured = true;
    charge.amount_captured = amount;
    // The part not captured is released, which Stripe shows as refunded.
    charge.amount_refunded = charge.amount - amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    em.emit('charge.captured', charge, { request: req, at });
  }
  em.emit('payment_intent.succeeded', pi, { request: req, at });
  return pi;
}

export function cancelPaymentIntent(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.PaymentIntent {
  const params = new Params(p.raw, ['cancellation_reason']);
  const pi = em.store.paymentIntents.require(id);
  requireStatus(
    pi,
    ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'],
    'cancel',
  );
  const at = em.timeOfCustomer(customerOf(pi));
  pi.status = 'canceled';
  pi.canceled_at = at;
  pi.amount_capturable = 0;
  pi.cancellation_reason =
    params.oneOf('cancellation_reason', [
      'abandoned',
      'duplicate',
      'fraudulent',
      'requested_by_customer',
    ] as const) ?? null;
  em.emit('payment_intent.canceled', pi, { request: req, at });
  return pi;
}
