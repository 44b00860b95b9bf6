/**
 * PaymentIntents, Charges and Refunds: what happens behind every card payment
 * (an invoice's, or a payment-mode Checkout Session's). A PaymentIntent is
 * created once per thing paid for and confirmed once per attempt; each
 * attempt makes a Charge, succeeded or failed. Events, in the order
 * Stripe documents them for subscriptions:
 * `payment_intent.created`, then `payment_intent.succeeded` + `charge.succeeded`
 * or `payment_intent.payment_failed` + `charge.failed`. Since API version
 * 2025-03-31 neither object names the invoice; invoices reach their
 * PaymentIntent through InvoicePayment objects (`invoice.payments`).
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidParam, invalidRequest } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { readPath, searchResult } from '../core/search.js';
import type { PaymentMethodRecord } from '../core/store.js';
import { chargeOutcome } from './cards.js';
import { buildCharge, buildPaymentIntent, buildRefund } from './objects.js';

export interface NewPaymentIntent {
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  receiptEmail: string | null;
  setupFutureUsage: Stripe.PaymentIntent.SetupFutureUsage | null;
  at: number;
  request: RequestInfo;
  /** Sets fields of the new PaymentIntent before `payment_intent.created` is sent. */
  configure?: (draft: Stripe.PaymentIntent) => void;
}

export function createPaymentIntent(em: Emulator, input: NewPaymentIntent): Stripe.PaymentIntent {
  const pi = buildPaymentIntent({
    created: input.at,
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    metadata: input.metadata,
    receiptEmail: input.receiptEmail,
    setupFutureUsage: input.setupFutureUsage,
  });
  input.configure?.(pi);
  em.store.paymentIntents.put(pi);
  em.emit('payment_intent.created', pi, { request: input.request, at: input.at });
  return pi;
}

export interface ConfirmResult {
  charge: Stripe.Charge;
  paid: boolean;
  decline: { code: string; declineCode: string; message: string } | null;
}

/** One payment attempt: charges the card and moves the PaymentIntent to `succeeded` or back to `requires_payment_method`. */
export function confirmPaymentIntent(
  em: Emulator,
  pi: Stripe.PaymentIntent,
  method: PaymentMethodRecord,
  at: number,
  request: RequestInfo,
): ConfirmResult {
  const decline = chargeOutcome(method.behaviour);
  const charge = buildCharge({
    created: at,
    amount: pi.amount,
    currency: pi.currency,
    customer: typeof pi.customer === 'string' ? pi.customer : (pi.customer?.id ?? null),
    description: pi.description,
    metadata: pi.metadata,
    paymentIntent: pi.id,
    paymentMethod: method.pm,
    receiptEmail: pi.receipt_email,
    decline,
  });
  em.store.charges.put(charge);
  pi.latest_charge = charge.id;
  if (!decline && pi.capture_method === 'manual') {
    // An authorization only: the charge succeeds uncaptured and the money waits for `capture`.
    charge.captured = false;
    charge.amount_captured = 0;
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    pi.payment_method = method.pm.id;
    pi.last_payment_error = null;
    em.emit('charge.succeeded', charge, { request, at });
    em.emit('payment_intent.amount_capturable_updated', pi, { request, at });
    return { charge, paid: true, decline: null };
  }
  if (!decline) {
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    pi.payment_method = method.pm.id;
    pi.last_payment_error = null;
    em.emit('payment_intent.succeeded', pi, { request, at });
    em.emit('charge.succeeded', charge, { request, at });
    return { charge, paid: true, decline: null };
  }
  // A declined confirmation returns the PaymentIntent to requires_payment_method; the error keeps the card.
  pi.status = 'requires_payment_method';
  pi.payment_method = null;
  pi.last_payment_error = {
    charge: charge.id,
    code: decline.code,
    decline_code: decline.declineCode,
    doc_url: `https://stripe.com/docs/error-codes/${decline.code.replaceAll('_', '-')}`,
    message: decline.message,
    payment_method: structuredClone(method.pm),
    type: 'card_error',
  };
  em.emit('payment_intent.payment_failed', pi, { request, at });
  em.emit('charge.failed', charge, { request, at });
  return { charge, paid: false, decline };
}

export function retrievePaymentIntent(em: Emulator, id: string): Stripe.PaymentIntent {
  return em.store.paymentIntents.require(id);
}

export function listPaymentIntents(em: Emulator, p: Params): Stripe.ApiList<Stripe.PaymentIntent> {
  const customer = p.string('customer');
  const hasCreated = p.has('created');
  return paginate(
    em.store.paymentIntents.newestFirst(),
    p,
    '/v1/payment_intents',
    'payment_intent',
    (x) =>
      (customer === undefined || x.customer === customer) &&
      (!hasCreated || matchesRange(p, 'created', x.created)),
  );
}

export function retrieveCharge(em: Emulator, id: string): Stripe.Charge {
  return em.store.charges.require(id);
}

export function listCharges(em: Emulator, p: Params): Stripe.ApiList<Stripe.Charge> {
  const customer = p.string('customer');
  const paymentIntent = p.string('payment_intent');
  const hasCreated = p.has('created');
  return paginate(
    em.store.charges.newestFirst(),
    p,
    '/v1/charges',
    'charge',
    (x) =>
      (customer === undefined || x.customer === customer) &&
      (paymentIntent === undefined || x.payment_intent === paymentIntent) &&
      (!hasCreated || matchesRange(p, 'created', x.created)),
  );
}

function money(amount: number, currency: string): string {
  return `${currency === 'usd' ? '$' : `${currency.toUpperCase()} `}${(amount / 100).toFixed(2)}`;
}

const REFUND_PARAMS = [
  'charge',
  'payment_intent',
  'amount',
  'reason',
  'metadata',
  'instructions_email',
  'refund_application_fee',
  'reverse_transfer',
];

/**
 * `POST /v1/refunds` for a charge or a PaymentIntent (its latest charge), in
 * full or in part. Card refunds in test mode succeed at once.
 */
export function createRefund(em: Emulator, p: Params, req: RequestInfo): Stripe.Refund {
  const params = new Params(p.raw, REFUND_PARAMS);
  const chargeId = params.string('charge') || undefined;
  const piId = params.string('payment_intent') || undefined;
  if (!chargeId && !piId) {
    throw invalidRequest(
      'One of the following params should be provided for this request: payment_intent or charge.',
      undefined,
      'parameter_missing',
    );
  }
  if (chargeId && piId) {
    throw invalidRequest(
      'You may only specify one of these parameters: charge, payment_intent.',
      'payment_intent',
    );
  }
  let charge: Stripe.Charge;
  if (piId) {
    const pi = em.store.paymentIntents.require(piId, 'payment_intent');
    const latest = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
    const found = latest ? em.store.charges.get(latest) : undefined;
    if (pi.status !== 'succeeded' || !found) {
      throw invalidRequest(
        `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
        'payment_intent',
        'charge_not_refundable',
      );
    }
    charge = found;
  } else {
    charge = em.store.charges.require(chargeId ?? '', 'charge');
  }
  if (charge.status !== 'succeeded') {
    throw invalidRequest(
      `Charge ${charge.id} has not been captured and cannot be refunded.`,
      piId ? 'payment_intent' : 'charge',
      'charge_not_refundable',
    );
  }
  if (charge.refunded) {
    throw invalidRequest(
      `Charge ${charge.id} has already been refunded.`,
      undefined,
      'charge_already_refunded',
    );
  }
  const remaining = charge.amount - charge.amount_refunded;
  const amount = params.integer('amount') ?? remaining;
  if (amount < 1) {
    throw invalidParam('amount', 'Invalid positive integer', 'parameter_invalid_integer');
  }
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${money(amount, charge.currency)}) is greater than unrefunded amount on charge (${money(remaining, charge.currency)})`,
      'amount',
      'amount_too_large',
    );
  }
  const reason = params.oneOf<Stripe.Refund.Reason>('reason', [
    'duplicate',
    'fraudulent',
    'requested_by_customer',
  ]);
  const customerId = typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null);
  const at = em.timeOfCustomer(customerId);
  const refund = buildRefund({
    created: at,
    amount,
    charge,
    metadata: params.metadata() ?? {},
    reason: reason ?? null,
  });
  em.store.refunds.put(refund);
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  em.emit('charge.refunded', charge, { request: req, at });
  em.emit('refund.created', refund, { request: req, at });
  return refund;
}

export function retrieveRefund(em: Emulator, id: string): Stripe.Refund {
  return em.store.refunds.require(id);
}

export function listRefunds(em: Emulator, p: Params): Stripe.ApiList<Stripe.Refund> {
  const charge = p.string('charge');
  const paymentIntent = p.string('payment_intent');
  const hasCreated = p.has('created');
  return paginate(
    em.store.refunds.newestFirst(),
    p,
    '/v1/refunds',
    'refund',
    (x) =>
      (charge === undefined || x.charge === charge) &&
      (paymentIntent === undefined || x.payment_intent === paymentIntent) &&
      (!hasCreated || matchesRange(p, 'created', x.created)),
  );
}

/** A charge's refunds, newest first (`charge.refunds` is includable: `expand[]=refunds`). */
export function refundsOf(em: Emulator, chargeId: string): Stripe.ApiList<Stripe.Refund> {
  return {
    object: 'list',
    data: em.store.refunds.newestFirst().filter((r) => r.charge === chargeId),
    has_more: false,
    url: `/v1/charges/${chargeId}/refunds`,
  };
}

export function retrieveInvoicePayment(em: Emulator, id: string): Stripe.InvoicePayment {
  return em.store.invoicePayments.require(id);
}

export function listInvoicePayments(em: Emulator, p: Params): Stripe.ApiList<Stripe.InvoicePayment> {
  const invoice = p.string('invoice');
  const status = p.string('status');
  const payment = p.object('payment', ['type', 'payment_intent', 'payment_record']);
  const paymentIntent = payment?.string('payment_intent');
  return paginate(
    em.store.invoicePayments.newestFirst(),
    p,
    '/v1/invoice_payments',
    'invoice_payment',
    (x) =>
      (invoice === undefined || x.invoice === invoice) &&
      (status === undefined || x.status === status) &&
      (paymentIntent === undefined || x.payment.payment_intent === paymentIntent),
  );
}

/** `POST /v1/refunds/:id`: only metadata changes. */
export function updateRefund(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Refund {
  const params = new Params(p.raw, ['metadata']);
  const refund = em.store.refunds.require(id);
  const before = structuredClone(refund);
  const metadata = params.metadata(refund.metadata ?? {});
  if (metadata) refund.metadata = metadata;
  if (JSON.stringify(before) !== JSON.stringify(refund)) {
    const customer = typeof refund.customer === 'string' ? refund.customer : null;
    em.emit('refund.updated', refund, { previous: before, request: req, at: em.timeOfCustomer(customer) });
  }
  return refund;
}

export function searchPaymentIntents(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.PaymentIntent> {
  return searchResult(
    em.store.paymentIntents.newestFirst(),
    p,
    '/v1/payment_intents/search',
    ['amount', 'created', 'currency', 'customer', 'status'],
    readPath,
  );
}

export function searchCharges(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.Charge> {
  return searchResult(
    em.store.charges.newestFirst(),
    p,
    '/v1/charges/search',
    [
      'amount',
      'billing_details.address.postal_code',
      'created',
      'currency',
      'customer',
      'disputed',
      'payment_intent',
      'payment_method_details.card.brand',
      'payment_method_details.card.exp_month',
      'payment_method_details.card.exp_year',
      'payment_method_details.card.fingerprint',
      'payment_method_details.card.last4',
      'refunded',
      'status',
    ],
    readPath,
  );
}
