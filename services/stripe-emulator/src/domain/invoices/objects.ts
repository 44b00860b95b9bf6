/** Invoice, its lines, InvoiceItem and InvoicePayment objects. */
import type Stripe from 'stripe';
import { newId } from '../core/ids.js';
import { decimal } from '../core/shapes.js';

export interface InvoiceLineInput {
  amount: number;
  description: string;
  /** null for an invoice item made from a bare `amount`. */
  price: Stripe.Price | null;
  /** The currency of a line without a price (else the price's). */
  currency?: string;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  subscription: string | null;
  subscriptionItem: string | null;
  proration: boolean;
  invoiceItem: string | null;
}

function productOf(price: Stripe.Price): string {
  return typeof price.product === 'string' ? price.product : price.product.id;
}

function pricingOf(price: Stripe.Price | null): Stripe.InvoiceLineItem.Pricing | null {
  if (!price) return null;
  return {
    price_details: { price: price.id, product: productOf(price) },
    type: 'price_details',
    unit_amount_decimal: price.unit_amount_decimal,
  };
}

export function buildInvoiceLine(invoiceId: string, line: InvoiceLineInput): Stripe.InvoiceLineItem {
  const fromItem = line.invoiceItem !== null && line.subscriptionItem === null;
  return {
    id: newId('il'),
    object: 'line_item',
    amount: line.amount,
    currency: line.price?.currency ?? line.currency ?? 'usd',
    description: line.description,
    discount_amounts: [],
    discountable: !line.proration,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: fromItem
      ? {
          type: 'invoice_item_details',
          invoice_item_details: {
            invoice_item: line.invoiceItem ?? '',
            proration: line.proration,
            proration_details: { credited_items: null },
            subscription: line.subscription,
          },
          subscription_item_details: null,
        }
      : {
          type: 'subscription_item_details',
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: line.invoiceItem,
            proration: line.proration,
            proration_details: { credited_items: null },
            subscription: line.subscription,
            subscription_item: line.subscriptionItem ?? '',
          },
        },
    period: { end: line.periodEnd, start: line.periodStart },
    pretax_credit_amounts: [],
    pricing: pricingOf(line.price),
    quantity: line.quantity,
    quantity_decimal: decimal(line.quantity),
    subscription: line.subscription,
    subtotal: line.amount,
    taxes: [],
  };
}

export function buildInvoice(input: {
  id?: string;
  created: number;
  customer: Stripe.Customer;
  currency: string;
  subscription: Stripe.Subscription | null;
  billingReason: Stripe.Invoice.BillingReason;
  lines: InvoiceLineInput[];
  periodStart: number;
  periodEnd: number;
  defaultPaymentMethod: string | null;
  autoAdvance: boolean;
  publicUrl: string;
}): Stripe.Invoice {
  const id = input.id ?? newId('in');
  const lines = input.lines.map((l) => buildInvoiceLine(id, l));
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const amountDue = Math.max(total, 0);
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Tollgate (emulated)',
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: amountDue,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: input.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: 'charge_automatically',
    created: input.created,
    currency: input.currency,
    custom_fields: null,
    customer: input.customer.id,
    customer_account: null,
    customer_address: null,
    customer_email: input.customer.email,
    customer_name: input.customer.name ?? null,
    customer_phone: input.customer.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: input.subscription
      ? {
          type: 'subscription_details',
          quote_details: null,
          subscription_details: {
            metadata: input.subscription.metadata,
            subscription: input.subscription.id,
          },
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: input.customer.test_clock ? String(input.customer.test_clock) : null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export function buildInvoiceItem(input: {
  created: number;
  customer: string;
  /** Proration items of a subscription name it and its item; one-off items have neither. */
  subscription: string | null;
  subscriptionItem: string | null;
  price: Stripe.Price | null;
  currency: string;
  amount: number;
  quantity: number;
  description: string | null;
  periodStart: number;
  periodEnd: number;
  testClock: string | null;
  proration: boolean;
  metadata?: Stripe.Metadata;
  invoice?: string | null;
}): Stripe.InvoiceItem {
  return {
    id: newId('ii'),
    object: 'invoiceitem',
    amount: input.amount,
    currency: input.price?.currency ?? input.currency,
    customer: input.customer,
    customer_account: null,
    date: input.created,
    description: input.description,
    discountable: !input.proration,
    discounts: [],
    invoice: input.invoice ?? null,
    livemode: false,
    metadata: input.metadata ?? {},
    net_amount: input.amount,
    parent: input.subscription
      ? {
          type: 'subscription_details',
          subscription_details: {
            subscription: input.subscription,
            subscription_item: input.subscriptionItem ?? undefined,
          },
        }
      : null,
    period: { end: input.periodEnd, start: input.periodStart },
    pricing: pricingOf(input.price),
    proration: input.proration,
    quantity: input.quantity,
    quantity_decimal: decimal(input.quantity),
    tax_rates: [],
    test_clock: input.testClock,
  };
}

/** An invoice's payment by a PaymentIntent: `open` until the PaymentIntent succeeds. */
export function buildInvoicePayment(
  invoice: Stripe.Invoice,
  paymentIntent: string,
  created: number,
): Stripe.InvoicePayment {
  return {
    id: newId('inpay'),
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: invoice.amount_due,
    created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { payment_intent: paymentIntent, type: 'payment_intent' },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
}
