/**
 * Invoices of subscriptions: created (draft), finalized (open), charged (paid
 * or failed with retries), with the events Stripe sends at each step.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { paginate } from '../core/list.js';
import { matchesRange, type Params } from '../core/params.js';
import { readPath, searchResult } from '../core/search.js';
import { applyToInvoice, takeSubscriptionDiscounts } from '../discounts/apply.js';
import { confirmPaymentIntent, createPaymentIntent } from '../payments/payments.js';
import { buildInvoice, buildInvoicePayment, type InvoiceLineInput } from './objects.js';
import { recomputeTotals } from './totals.js';

export function subscriptionOf(invoice: Stripe.Invoice): string | null {
  const sub = invoice.parent?.subscription_details?.subscription;
  if (!sub) return null;
  return typeof sub === 'string' ? sub : sub.id;
}

export function customerIdOf(value: string | { id: string } | null): string {
  if (value === null) return '';
  return typeof value === 'string' ? value : value.id;
}

export function createInvoice(
  em: Emulator,
  input: {
    id?: string;
    customer: Stripe.Customer;
    subscription: Stripe.Subscription | null;
    /** Defaults to the subscription's. */
    currency?: string;
    description?: string | null;
    metadata?: Stripe.Metadata;
    billingReason: Stripe.Invoice.BillingReason;
    lines: InvoiceLineInput[];
    periodStart: number;
    periodEnd: number;
    at: number;
    autoAdvance: boolean;
    request: RequestInfo;
    /** Runs on the draft before it is stored and `invoice.created` is sent (to add items). */
    beforeEvent?: (draft: Stripe.Invoice) => void;
  },
): Stripe.Invoice {
  const invoice = buildInvoice({
    ...(input.id ? { id: input.id } : {}),
    created: input.at,
    customer: input.customer,
    currency: input.currency ?? input.subscription?.currency ?? 'usd',
    subscription: input.subscription,
    billingReason: input.billingReason,
    lines: input.lines,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    defaultPaymentMethod: null,
    autoAdvance: input.autoAdvance,
    publicUrl: em.publicUrl,
  });
  if (input.description !== undefined) invoice.description = input.description;
  if (input.metadata) invoice.metadata = input.metadata;
  if (input.autoAdvance) {
    const finalizeAt = input.at + em.payments.invoiceFinalizeDelaySeconds;
    invoice.automatically_finalizes_at = finalizeAt;
    invoice.next_payment_attempt = finalizeAt;
  }
  if (input.subscription) {
    applyToInvoice(em, invoice, takeSubscriptionDiscounts(em, input.subscription, input.at));
    recomputeTotals(invoice);
  }
  input.beforeEvent?.(invoice);
  em.store.invoices.put(invoice);
  em.emit('invoice.created', invoice, { request: input.request, at: input.at });
  return invoice;
}

export function finalizeInvoice(
  em: Emulator,
  invoice: Stripe.Invoice,
  at: number,
  request: RequestInfo,
): void {
  const customer = em.store.customers.get(customerIdOf(invoice.customer));
  const sequence = customer?.next_invoice_sequence ?? 1;
  if (customer) customer.next_invoice_sequence = sequence + 1;
  invoice.status = 'open';
  invoice.number = `${customer?.invoice_prefix ?? 'EMU'}-${String(sequence).padStart(4, '0')}`;
  invoice.effective_at = at;
  invoice.automatically_finalizes_at = null;
  invoice.status_transitions.finalized_at = at;
  invoice.hosted_invoice_url = `${em.publicUrl}/i/${invoice.id}`;
  if (invoice.amount_due === 0) {
    markPaid(em, invoice, at);
    em.emit('invoice.finalized', invoice, { request, at });
    emitPaid(em, invoice, at, request, null);
    return;
  }
  em.emit('invoice.finalized', invoice, { request, at });
}

function markPaid(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  invoice.status = 'paid';
  invoice.amount_paid = invoice.amount_due;
  invoice.amount_remaining = 0;
  invoice.next_payment_attempt = null;
  invoice.auto_advance = false;
  invoice.status_transitions.paid_at = at;
  em.changed();
}

function emitPaid(
  em: Emulator,
  invoice: Stripe.Invoice,
  at: number,
  request: RequestInfo,
  payment: Stripe.InvoicePayment | null,
): void {
  em.emit('invoice.paid', invoice, { request, at });
  em.emit('invoice.payment_succeeded', invoice, { request, at });
  if (payment) {
    payment.status = 'paid';
    payment.amount_paid = invoice.amount_paid;
    payment.status_transitions.paid_at = at;
    em.emit('invoice_payment.paid', payment, { request, at });
  }
}

/** The invoice's default payment (an InvoicePayment naming its PaymentIntent), if one was started. */
export function defaultPaymentOf(em: Emulator, invoice: Stripe.Invoice): Stripe.InvoicePayment | undefined {
  return em.store.invoicePayments.newestFirst().find((p) => p.invoice === invoice.id && p.is_default);
}

/**
 * The PaymentIntent that collects an invoice: made at the first attempt (or
 * the one Checkout has already confirmed) and confirmed again on each retry.
 */
function openPayment(
  em: Emulator,
  invoice: Stripe.Invoice,
  at: number,
  request: RequestInfo,
  paidBy?: Stripe.PaymentIntent,
): { payment: Stripe.InvoicePayment; pi: Stripe.PaymentIntent } {
  const existing = defaultPaymentOf(em, invoice);
  const existingPi = existing
    ? em.store.paymentIntents.get(String(existing.payment.payment_intent))
    : undefined;
  if (existing && existingPi) return { payment: existing, pi: existingPi };
  const pi =
    paidBy ??
    createPaymentIntent(em, {
      amount: invoice.amount_due,
      currency: invoice.currency,
      customer: customerIdOf(invoice.customer) || null,
      description:
        invoice.billing_reason === 'subscription_create'
          ? 'Subscription creation'
          : invoice.billing_reason === 'manual'
            ? 'Payment for Invoice'
            : 'Subscription update',
      metadata: {},
      receiptEmail: null,
      setupFutureUsage: null,
      at,
      request,
    });
  const payment = buildInvoicePayment(invoice, pi.id, at);
  em.store.invoicePayments.put(payment);
  return { payment, pi };
}

/** The payment method an invoice is charged to: its own, the subscription's, else the customer's. */
export function paymentMethodFor(em: Emulator, invoice: Stripe.Invoice): string | null {
  const own = invoice.default_payment_method;
  if (own) return typeof own === 'string' ? own : own.id;
  const subId = subscriptionOf(invoice);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  const fromSub = sub?.default_payment_method;
  if (fromSub) return typeof fromSub === 'string' ? fromSub : fromSub.id;
  const customer = em.store.customers.get(customerIdOf(invoice.customer));
  const fromCustomer = customer?.invoice_settings.default_payment_method;
  if (fromCustomer) return typeof fromCustomer === 'string' ? fromCustomer : fromCustomer.id;
  return null;
}

export interface PaymentResult {
  paid: boolean;
  declineMessage: string | null;
  declineCode: string | null;
}

/**
 * One payment attempt on an open invoice. On failure the next attempt is
 * scheduled per the retry settings (none for a subscription's first invoice).
 */
export function attemptPayment(
  em: Emulator,
  invoice: Stripe.Invoice,
  at: number,
  request: RequestInfo,
  options: { scheduleRetry: boolean; paidBy?: Stripe.PaymentIntent | null; paymentMethod?: string },
): PaymentResult {
  const before = structuredClone(invoice);
  invoice.attempted = true;
  invoice.attempt_count += 1;
  if (options.paidBy) {
    const { payment } = openPayment(em, invoice, at, request, options.paidBy);
    markPaid(em, invoice, at);
    emitPaid(em, invoice, at, request, payment);
    return { paid: true, declineMessage: null, declineCode: null };
  }
  const pmId = options.paymentMethod ?? paymentMethodFor(em, invoice);
  const record = pmId ? em.store.paymentMethods.get(pmId) : undefined;
  let decline: { code: string; declineCode: string; message: string } | null = {
    code: 'payment_method_missing',
    declineCode: '',
    message: 'The customer has no payment method.',
  };
  if (record) {
    const { payment, pi } = openPayment(em, invoice, at, request);
    const result = confirmPaymentIntent(em, pi, record, at, request);
    if (result.paid) {
      markPaid(em, invoice, at);
      emitPaid(em, invoice, at, request, payment);
      return { paid: true, declineMessage: null, declineCode: null };
    }
    decline = result.decline;
  }
  const failedAttempts = invoice.attempt_count;
  const retryDays = em.payments.retryDays;
  invoice.last_finalization_error = null;
  invoice.next_payment_attempt =
    options.scheduleRetry && failedAttempts <= retryDays.length
      ? at + Math.round((retryDays[failedAttempts - 1] ?? 1) * 86400)
      : null;
  em.emit('invoice.payment_failed', invoice, { request, at });
  em.emit('invoice.updated', invoice, { request, at, previous: before });
  return {
    paid: false,
    declineMessage: decline?.message ?? 'Your card was declined.',
    declineCode: decline ? decline.declineCode || decline.code : null,
  };
}

export function retrieveInvoice(em: Emulator, id: string): Stripe.Invoice {
  return em.store.invoices.require(id);
}

export function listInvoices(em: Emulator, p: Params): Stripe.ApiList<Stripe.Invoice> {
  const customer = p.string('customer');
  const subscription = p.string('subscription');
  const status = p.string('status');
  const items = em.store.invoices
    .newestFirst()
    .filter(
      (x) =>
        (customer === undefined || x.customer === customer) &&
        (subscription === undefined || subscriptionOf(x) === subscription) &&
        (status === undefined || x.status === status) &&
        matchesRange(p, 'created', x.created),
    );
  return paginate(items, p, '/v1/invoices', 'invoice');
}

export function listInvoiceLines(
  em: Emulator,
  id: string,
  p: Params,
): Stripe.ApiList<Stripe.InvoiceLineItem> {
  const invoice = em.store.invoices.require(id);
  return paginate([...invoice.lines.data], p, `/v1/invoices/${id}/lines`, 'line_item');
}

/** A paid invoice brings an incomplete, past_due or unpaid subscription back to active. */
export function reactivateAfterPayment(
  em: Emulator,
  sub: Stripe.Subscription,
  at: number,
  req: RequestInfo,
): void {
  if (!['incomplete', 'past_due', 'unpaid'].includes(sub.status)) return;
  const before = structuredClone(sub);
  sub.status = 'active';
  em.emit('customer.subscription.updated', sub, { previous: before, request: req, at });
}

export function searchInvoices(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.Invoice> {
  return searchResult(
    em.store.invoices.newestFirst(),
    p,
    '/v1/invoices/search',
    ['created', 'currency', 'customer', 'number', 'receipt_number', 'status', 'subscription', 'total'],
    (invoice, field) => (field === 'subscription' ? subscriptionOf(invoice) : readPath(invoice, field)),
  );
}
