/** The local invoice mirror: written from invoice webhooks (re-fetched), read by GET /invoices. */
import type Stripe from 'stripe';
import type { Db, Prisma, Sql } from '../../db/prisma.js';
import { fromUnix, idOf, isResourceMissing } from '../../stripe/client.js';
import { upsertCustomer } from '../customers/customers.js';
import { coalesceByKey } from '../subscriptions/shared-runs.js';

/** An invoice's subscription: under parent.subscription_details since API 2025-03-31.basil. */
export function invoiceSubscriptionId(invoice: Stripe.Invoice): string | null {
  return idOf(invoice.parent?.subscription_details?.subscription ?? null);
}

export function invoiceRow(invoice: Stripe.Invoice) {
  return {
    customerId: idOf(invoice.customer) as string,
    subscriptionId: invoiceSubscriptionId(invoice),
    status: invoice.status ?? null,
    number: invoice.number ?? null,
    currency: invoice.currency,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    total: invoice.total,
    billingReason: invoice.billing_reason ?? null,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
    periodStart: fromUnix(invoice.period_start),
    periodEnd: fromUnix(invoice.period_end),
    stripeCreatedAt: fromUnix(invoice.created) as Date,
    raw: invoice as unknown as Prisma.InputJsonValue,
  };
}

/** The invoice upsert, written only while its customer is in the mirror (one round trip: no read first). */
const UPSERT_INVOICE = `
  INSERT INTO invoices (id, customer_id, subscription_id, status, number, currency, amount_due, amount_paid, total,
                        billing_reason, hosted_invoice_url, invoice_pdf, period_start, period_end, stripe_created_at,
                        raw, updated_at)
  SELECT $1, $2, $3, $4, $5, $6, $7::int, $8::int, $9::int, $10, $11, $12, $13::timestamptz, $14::timestamptz,
         $15::timestamptz, $16::jsonb, now()
   WHERE EXISTS (SELECT 1 FROM customers WHERE id = $2)
  ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, subscription_id = EXCLUDED.subscription_id,
    status = EXCLUDED.status, number = EXCLUDED.number, currency = EXCLUDED.currency,
    amount_due = EXCLUDED.amount_due, amount_paid = EXCLUDED.amount_paid, total = EXCLUDED.total,
    billing_reason = EXCLUDED.billing_reason, hosted_invoice_url = EXCLUDED.hosted_invoice_url,
    invoice_pdf = EXCLUDED.invoice_pdf, period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
    stripe_created_at = EXCLUDED.stripe_created_at, raw = EXCLUDED.raw, updated_at = EXCLUDED.updated_at
  RETURNING id`;

export function createInvoices({ db, sql, stripe }: { db: Db; sql: Sql; stripe: Stripe }) {
  /** Stores the row; false when its customer is not in the mirror (nothing written). */
  async function store(id: string, row: ReturnType<typeof invoiceRow>): Promise<boolean> {
    const { rows } = await sql.query({
      name: 'invoice-upsert',
      text: UPSERT_INVOICE,
      values: [
        id,
        row.customerId,
        row.subscriptionId,
        row.status,
        row.number,
        row.currency,
        row.amountDue,
        row.amountPaid,
        row.total,
        row.billingReason,
        row.hostedInvoiceUrl,
        row.invoicePdf,
        row.periodStart,
        row.periodEnd,
        row.stripeCreatedAt,
        JSON.stringify(row.raw),
      ],
    });
    return rows.length === 1;
  }

  /**
   * Re-fetches an invoice and stores it; returns it (null when Stripe no longer has it).
   * `notBefore` (an event's receipt, performance.now() time): a refresh of the same invoice whose
   * read began later serves the call (a payment sends four invoice events at once; shared-runs.ts).
   */
  const shared = coalesceByKey<never, Stripe.Invoice | null>(
    (invoiceId, _, reading) => refreshNow(invoiceId, reading),
    { remember: 2_000 },
  );
  const refresh = (invoiceId: string, notBefore?: number) => shared(invoiceId, undefined, notBefore);

  async function refreshNow(invoiceId: string, reading: () => void): Promise<Stripe.Invoice | null> {
    let invoice: Stripe.Invoice;
    reading();
    try {
      invoice = await stripe.invoices.retrieve(invoiceId);
    } catch (error) {
      if (isResourceMissing(error)) return null;
      throw error;
    }
    const row = invoiceRow(invoice);
    if (await store(invoiceId, row)) return invoice;
    // A customer made outside our API, not mirrored yet: mirrored first.
    await upsertCustomer(db, await stripe.customers.retrieve(row.customerId));
    if (!(await store(invoiceId, row)))
      throw new Error(`customer ${row.customerId} of ${invoiceId} is not mirrored`);
    return invoice;
  }

  async function listForCustomer(customerId: string, limit = 100) {
    return db.invoice.findMany({
      where: { customerId },
      orderBy: { stripeCreatedAt: 'desc' },
      take: limit,
    });
  }

  return { refresh, listForCustomer };
}

export type Invoices = ReturnType<typeof createInvoices>;
