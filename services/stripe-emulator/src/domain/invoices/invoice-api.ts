/**
 * Invoices made through the API (`POST /v1/invoices`): a draft for a customer
 * (with their pending invoice items when `pending_invoice_items_behavior=include`),
 * edited, finalized, paid (by card, a given `payment_method`, or
 * `paid_out_of_band`), voided or deleted; and `create_preview`.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidRequest } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { Params } from '../core/params.js';
import { findCustomerPaymentMethod, resolvePaymentMethod } from '../payments/payment-methods.js';
import { addItemToInvoice, lineOf, pendingItemsOf, priceOfItem } from './invoice-items.js';
import {
  attemptPayment,
  createInvoice,
  customerIdOf,
  finalizeInvoice,
  reactivateAfterPayment,
  subscriptionOf,
} from './invoices.js';
import { buildInvoice } from './objects.js';
import { recomputeTotals } from './totals.js';

const CREATE = [
  'customer',
  'description',
  'metadata',
  'auto_advance',
  'collection_method',
  'pending_invoice_items_behavior',
  'default_payment_method',
  'currency',
  'days_until_due',
  'due_date',
  'footer',
  'subscription',
  'discounts',
  'automatic_tax',
  'payment_settings',
];
const UPDATE = ['description', 'metadata', 'auto_advance', 'default_payment_method', 'footer', 'discounts'];

function requireStatus(invoice: Stripe.Invoice, allowed: Stripe.Invoice.Status[], action: string): void {
  if (invoice.status && allowed.includes(invoice.status)) return;
  throw invalidRequest(
    `You can only ${action} an invoice whose status is ${allowed.join(' or ')}. This invoice is ${invoice.status}.`,
    undefined,
    'invoice_unexpected_state',
  );
}

function defaultPaymentMethodParam(
  em: Emulator,
  customer: string,
  params: Params,
): string | null | undefined {
  if (!params.has('default_payment_method')) return undefined;
  const id = params.nullableString('default_payment_method');
  if (!id) return null;
  const record = findCustomerPaymentMethod(em, customer, id);
  if (!record) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`,
      'default_payment_method',
      'resource_missing',
    );
  }
  return record.id;
}

export function createManualInvoice(em: Emulator, p: Params, req: RequestInfo): Stripe.Invoice {
  const params = new Params(p.raw, CREATE);
  const customer = em.store.customers.require(params.requiredString('customer'), 'customer');
  if (params.has('subscription')) {
    throw invalidRequest(
      'The emulator makes subscription invoices itself; omit `subscription`.',
      'subscription',
    );
  }
  const behavior =
    params.oneOf('pending_invoice_items_behavior', ['include', 'exclude'] as const) ?? 'exclude';
  const pending = behavior === 'include' ? pendingItemsOf(em, customer.id) : [];
  const currency =
    params.string('currency')?.toLowerCase() ?? pending[0]?.currency ?? customer.currency ?? 'usd';
  const at = em.timeOf(customer.test_clock);
  const defaultPm = defaultPaymentMethodParam(em, customer.id, params);
  const invoice = createInvoice(em, {
    customer,
    subscription: null,
    currency,
    description: params.nullableString('description') ?? null,
    metadata: params.metadata() ?? {},
    billingReason: 'manual',
    lines: [],
    periodStart: at,
    periodEnd: at,
    at,
    autoAdvance: params.boolean('auto_advance') ?? false,
    request: req,
    beforeEvent: (draft) => {
      if (defaultPm) draft.default_payment_method = defaultPm;
      for (const item of pending.filter((ii) => ii.currency === currency)) addItemToInvoice(em, draft, item);
    },
  });
  return invoice;
}

export function updateInvoice(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Invoice {
  const params = new Params(p.raw, UPDATE);
  const invoice = em.store.invoices.require(id);
  const before = structuredClone(invoice);
  const draftOnly = ['auto_advance', 'default_payment_method', 'footer', 'discounts'];
  if (invoice.status !== 'draft' && draftOnly.some((k) => params.has(k))) {
    requireStatus(invoice, ['draft'], 'change these fields of');
  }
  if (params.has('description')) invoice.description = params.nullableString('description') ?? null;
  if (params.has('footer')) invoice.footer = params.nullableString('footer') ?? null;
  const metadata = params.metadata(invoice.metadata ?? {});
  if (metadata) invoice.metadata = metadata;
  if (params.has('auto_advance')) invoice.auto_advance = params.boolean('auto_advance') ?? false;
  const pm = defaultPaymentMethodParam(em, customerIdOf(invoice.customer), params);
  if (pm !== undefined) invoice.default_payment_method = pm;
  if (JSON.stringify(before) !== JSON.stringify(invoice)) {
    em.emit('invoice.updated', invoice, {
      previous: before,
      request: req,
      at: em.timeOf(invoice.test_clock),
    });
  }
  return invoice;
}

export function finalizeInvoiceApi(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Invoice {
  const params = new Params(p.raw, ['auto_advance']);
  const invoice = em.store.invoices.require(id);
  requireStatus(invoice, ['draft'], 'finalize');
  if (params.has('auto_advance')) invoice.auto_advance = params.boolean('auto_advance') ?? false;
  finalizeInvoice(em, invoice, em.timeOf(invoice.test_clock), req);
  return invoice;
}

/** `POST /v1/invoices/:id/pay`: finalize a draft if needed and charge it now (or record an out-of-band payment). */
export function payInvoice(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Invoice {
  const params = new Params(p.raw, [
    'payment_method',
    'off_session',
    'paid_out_of_band',
    'forgive',
    'source',
  ]);
  const invoice = em.store.invoices.require(id);
  if (invoice.status === 'paid')
    throw invalidRequest('Invoice is already paid', undefined, 'invoice_already_paid');
  requireStatus(invoice, ['draft', 'open'], 'pay');
  const at = em.timeOf(invoice.test_clock);
  const pmId = params.string('payment_method');
  const method = pmId ? resolvePaymentMethod(em, pmId) : undefined;
  if (invoice.status === 'draft') finalizeInvoice(em, invoice, at, req);
  if (invoice.status !== 'open') return invoice;
  const subId = subscriptionOf(invoice);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  if (params.boolean('paid_out_of_band')) {
    const before = structuredClone(invoice);
    invoice.status = 'paid';
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.auto_advance = false;
    invoice.status_transitions.paid_at = at;
    em.emit('invoice.paid', invoice, { request: req, at });
    em.emit('invoice.updated', invoice, { previous: before, request: req, at });
    if (sub) reactivateAfterPayment(em, sub, at, req);
    return invoice;
  }
  const result = attemptPayment(em, invoice, at, req, {
    scheduleRetry: false,
    ...(method ? { paymentMethod: method.id } : {}),
  });
  if (result.paid && sub) reactivateAfterPayment(em, sub, at, req);
  if (!result.paid) {
    throw cardError(
      'card_declined',
      result.declineCode ?? undefined,
      result.declineMessage ?? 'Your card was declined.',
    );
  }
  return invoice;
}

export function voidInvoice(em: Emulator, id: string, req: RequestInfo): Stripe.Invoice {
  const invoice = em.store.invoices.require(id);
  requireStatus(invoice, ['open', 'uncollectible'], 'void');
  const before = structuredClone(invoice);
  const at = em.timeOf(invoice.test_clock);
  invoice.status = 'void';
  invoice.next_payment_attempt = null;
  invoice.auto_advance = false;
  invoice.amount_remaining = 0;
  invoice.status_transitions.voided_at = at;
  em.emit('invoice.voided', invoice, { request: req, at });
  em.emit('invoice.updated', invoice, { previous: before, request: req, at });
  return invoice;
}

export function markUncollectible(em: Emulator, id: string, req: RequestInfo): Stripe.Invoice {
  const invoice = em.store.invoices.require(id);
  requireStatus(invoice, ['open'], 'mark uncollectible');
  const before = structuredClone(invoice);
  const at = em.timeOf(invoice.test_clock);
  invoice.status = 'uncollectible';
  invoice.next_payment_attempt = null;
  invoice.status_transitions.marked_uncollectible_at = at;
  em.emit('invoice.marked_uncollectible', invoice, { request: req, at });
  em.emit('invoice.updated', invoice, { previous: before, request: req, at });
  return invoice;
}

export function deleteDraftInvoice(em: Emulator, id: string, req: RequestInfo): Stripe.DeletedInvoice {
  const invoice = em.store.invoices.require(id);
  requireStatus(invoice, ['draft'], 'delete');
  for (const item of em.store.invoiceItems.items.values()) if (item.invoice === id) item.invoice = null;
  em.store.invoices.delete(id);
  em.emit('invoice.deleted', invoice, { request: { ...req, idempotencyKey: null } });
  return { id, object: 'invoice', deleted: true };
}

/**
 * `POST /v1/invoices/create_preview`: what the customer's next invoice would
 * be: the subscription's next period (with its pending prorations) when one is
 * named, else the customer's pending invoice items. Nothing is stored.
 */
export function createPreview(em: Emulator, p: Params): Stripe.Invoice {
  const params = new Params(p.raw, [
    'customer',
    'subscription',
    'subscription_details',
    'currency',
    'discounts',
    'invoice_items',
    'preview_mode',
    'automatic_tax',
  ]);
  const subId = params.string('subscription');
  const sub = subId ? em.store.subscriptions.require(subId, 'subscription') : undefined;
  const customerId = params.string('customer') ?? (sub ? String(sub.customer) : undefined);
  if (!customerId) throw invalidRequest('Missing required param: customer.', 'customer', 'parameter_missing');
  const customer = em.store.customers.require(customerId, 'customer');
  const at = em.timeOf(customer.test_clock);
  // Previews carry an id of their own kind since 2024 and are never stored.
  const id = `upcoming_${newId('in')}`;
  const items = sub
    ? [...em.store.invoiceItems.items.values()].filter(
        (ii) => ii.invoice === null && ii.parent?.subscription_details?.subscription === sub.id,
      )
    : pendingItemsOf(em, customer.id);
  const lines = items.map((ii) => lineOf(ii, priceOfItem(em, ii)));
  let periodStart = at;
  let periodEnd = at;
  if (sub) {
    const first = sub.items.data[0];
    periodStart = first?.current_period_start ?? at;
    periodEnd = first?.current_period_end ?? at;
    for (const item of sub.items.data) {
      const quantity = item.quantity ?? 1;
      lines.push({
        amount: (item.price.unit_amount ?? 0) * quantity,
        description: `${quantity} × ${item.price.nickname ?? String(item.price.product)}`,
        price: item.price,
        quantity,
        periodStart: item.current_period_end,
        periodEnd: item.current_period_end + (item.current_period_end - item.current_period_start),
        subscription: sub.id,
        subscriptionItem: item.id,
        proration: false,
        invoiceItem: null,
      });
    }
  }
  const invoice = buildInvoice({
    id,
    created: sub ? periodEnd : at,
    customer,
    currency: sub?.currency ?? items[0]?.currency ?? params.string('currency') ?? customer.currency ?? 'usd',
    subscription: sub ?? null,
    billingReason: sub ? 'upcoming' : 'manual',
    lines,
    periodStart,
    periodEnd,
    defaultPaymentMethod: null,
    autoAdvance: false,
    publicUrl: em.publicUrl,
  });
  recomputeTotals(invoice);
  return invoice;
}
