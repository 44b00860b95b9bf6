/**
 * `/v1/invoiceitems`: pending charges a customer's next invoice picks up (a
 * manual invoice with `pending_invoice_items_behavior=include`, or the next
 * renewal of the subscription they name), or items added to a draft invoice.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest, missingParam } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { requirePrice } from '../products-prices/catalogue.js';
import { buildInvoiceItem, buildInvoiceLine, type InvoiceLineInput } from './objects.js';
import { recomputeTotals } from './totals.js';

const CREATE = [
  'customer',
  'amount',
  'currency',
  'description',
  'price',
  'pricing',
  'quantity',
  'unit_amount_decimal',
  'invoice',
  'subscription',
  'metadata',
  'period',
  'discountable',
  'discounts',
  'tax_behavior',
  'tax_rates',
  'price_data',
];
const UPDATE = [
  'amount',
  'description',
  'quantity',
  'metadata',
  'period',
  'discountable',
  'price',
  'pricing',
];

function priceParam(em: Emulator, params: Params): { price: Stripe.Price | null; param: string } {
  const pricing = params.object('pricing', ['price']);
  const fromPricing = pricing?.string('price');
  const id = fromPricing ?? params.string('price');
  const param = fromPricing ? 'pricing[price]' : 'price';
  return { price: id ? requirePrice(em, id, param) : null, param };
}

/** The draft invoice an item is added to; only drafts take items. */
function requireDraft(em: Emulator, id: string): Stripe.Invoice {
  const invoice = em.store.invoices.require(id, 'invoice');
  if (invoice.status !== 'draft') {
    throw invalidRequest(
      `You can only add invoice items to draft invoices. This invoice is ${invoice.status}.`,
      'invoice',
      'invoice_not_editable',
    );
  }
  return invoice;
}

export function lineOf(item: Stripe.InvoiceItem, price: Stripe.Price | null): InvoiceLineInput {
  return {
    amount: item.amount,
    description: item.description ?? '',
    price,
    currency: item.currency,
    quantity: item.quantity,
    periodStart: item.period.start,
    periodEnd: item.period.end,
    subscription: item.parent?.subscription_details?.subscription ?? null,
    subscriptionItem: item.parent?.subscription_details?.subscription_item ?? null,
    proration: item.proration,
    invoiceItem: item.id,
  };
}

export function priceOfItem(em: Emulator, item: Stripe.InvoiceItem): Stripe.Price | null {
  const id = item.pricing?.price_details?.price;
  return id ? (em.store.prices.get(typeof id === 'string' ? id : id.id) ?? null) : null;
}

/** Puts an invoice item's line on a draft invoice and recomputes its totals. */
export function addItemToInvoice(em: Emulator, invoice: Stripe.Invoice, item: Stripe.InvoiceItem): void {
  item.invoice = invoice.id;
  invoice.lines.data.push(buildInvoiceLine(invoice.id, lineOf(item, priceOfItem(em, item))));
  recomputeTotals(invoice);
}

export function createInvoiceItem(em: Emulator, p: Params, req: RequestInfo): Stripe.InvoiceItem {
  const params = new Params(p.raw, CREATE);
  const customer = em.store.customers.require(params.requiredString('customer'), 'customer');
  const { price } = priceParam(em, params);
  const quantity = params.integer('quantity') ?? 1;
  const amount = params.integer('amount');
  if (!price && amount === undefined) throw missingParam('amount');
  if (price && amount !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: amount, price.', 'amount');
  }
  const currency = price?.currency ?? params.string('currency')?.toLowerCase();
  if (!currency) throw missingParam('currency');
  const invoiceId = params.string('invoice');
  const invoice = invoiceId ? requireDraft(em, invoiceId) : undefined;
  const subscription = params.string('subscription');
  if (subscription) em.store.subscriptions.require(subscription, 'subscription');
  const at = em.timeOf(customer.test_clock);
  const period = params.object('period', ['start', 'end']);
  const item = buildInvoiceItem({
    created: at,
    customer: customer.id,
    subscription: subscription ?? null,
    subscriptionItem: null,
    price,
    currency,
    amount: price ? (price.unit_amount ?? 0) * quantity : (amount ?? 0),
    quantity,
    description: params.nullableString('description') ?? null,
    periodStart: period?.integer('start') ?? at,
    periodEnd: period?.integer('end') ?? at,
    testClock: customer.test_clock ? String(customer.test_clock) : null,
    proration: false,
    metadata: params.metadata() ?? {},
  });
  em.store.invoiceItems.put(item);
  if (invoice) addItemToInvoice(em, invoice, item);
  em.emit('invoiceitem.created', item, { request: req, at });
  return item;
}

export function retrieveInvoiceItem(em: Emulator, id: string): Stripe.InvoiceItem {
  return em.store.invoiceItems.require(id);
}

function requirePending(em: Emulator, id: string): Stripe.InvoiceItem {
  const item = em.store.invoiceItems.require(id);
  const invoice = item.invoice ? em.store.invoices.get(String(item.invoice)) : undefined;
  if (invoice && invoice.status !== 'draft') {
    throw invalidRequest(
      `Invoice items on a finalized invoice cannot be changed (invoice ${invoice.id} is ${invoice.status}).`,
      undefined,
      'invoice_not_editable',
    );
  }
  return item;
}

export function updateInvoiceItem(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.InvoiceItem {
  const params = new Params(p.raw, UPDATE);
  const item = requirePending(em, id);
  const before = structuredClone(item);
  const { price } = priceParam(em, params);
  const quantity = params.integer('quantity') ?? item.quantity;
  const current = price ?? priceOfItem(em, item);
  if (price) {
    const next = buildInvoiceItem({ ...base(item), price, currency: price.currency, quantity });
    item.pricing = next.pricing;
  }
  item.quantity = quantity;
  if (current) item.amount = (current.unit_amount ?? 0) * quantity;
  else if (params.has('amount')) item.amount = params.integer('amount') ?? item.amount;
  item.net_amount = item.amount;
  if (params.has('description')) item.description = params.nullableString('description') ?? null;
  const metadata = params.metadata(item.metadata ?? {});
  if (metadata) item.metadata = metadata;
  const period = params.object('period', ['start', 'end']);
  if (period)
    item.period = {
      start: period.integer('start') ?? item.period.start,
      end: period.integer('end') ?? item.period.end,
    };
  if (JSON.stringify(before) === JSON.stringify(item)) return item;
  syncInvoiceLine(em, item);
  em.emit('invoiceitem.updated', item, {
    previous: before,
    request: req,
    at: em.timeOfCustomer(String(item.customer)),
  });
  return item;
}

function base(item: Stripe.InvoiceItem) {
  return {
    created: item.date,
    customer: String(item.customer),
    subscription: null,
    subscriptionItem: null,
    amount: item.amount,
    description: item.description,
    periodStart: item.period.start,
    periodEnd: item.period.end,
    testClock: item.test_clock ? String(item.test_clock) : null,
    proration: item.proration,
  };
}

/** A draft invoice's line follows its item. */
function syncInvoiceLine(em: Emulator, item: Stripe.InvoiceItem): void {
  const invoice = item.invoice ? em.store.invoices.get(String(item.invoice)) : undefined;
  if (!invoice) return;
  invoice.lines.data = invoice.lines.data.filter(
    (l) => l.parent?.invoice_item_details?.invoice_item !== item.id,
  );
  invoice.lines.data.push(buildInvoiceLine(invoice.id, lineOf(item, priceOfItem(em, item))));
  recomputeTotals(invoice);
}

export function deleteInvoiceItem(em: Emulator, id: string, req: RequestInfo): Stripe.DeletedInvoiceItem {
  const item = requirePending(em, id);
  const invoice = item.invoice ? em.store.invoices.get(String(item.invoice)) : undefined;
  if (invoice) {
    invoice.lines.data = invoice.lines.data.filter(
      (l) => l.parent?.invoice_item_details?.invoice_item !== item.id,
    );
    recomputeTotals(invoice);
  }
  em.store.invoiceItems.delete(id);
  em.emit('invoiceitem.deleted', item, { request: { ...req, idempotencyKey: null } });
  return { id, object: 'invoiceitem', deleted: true };
}

export function listInvoiceItems(em: Emulator, p: Params): Stripe.ApiList<Stripe.InvoiceItem> {
  const customer = p.string('customer');
  const invoice = p.string('invoice');
  const pending = p.boolean('pending');
  return paginate(
    em.store.invoiceItems.newestFirst(),
    p,
    '/v1/invoiceitems',
    'invoiceitem',
    (x) =>
      (customer === undefined || x.customer === customer) &&
      (invoice === undefined || x.invoice === invoice) &&
      (pending === undefined || (x.invoice === null) === pending) &&
      matchesRange(p, 'created', x.date),
  );
}

/** The customer's pending items not tied to a subscription (a manual invoice's `include`). */
export function pendingItemsOf(em: Emulator, customerId: string): Stripe.InvoiceItem[] {
  return [...em.store.invoiceItems.items.values()].filter(
    (ii) => ii.customer === customerId && ii.invoice === null && !ii.parent?.subscription_details,
  );
}
