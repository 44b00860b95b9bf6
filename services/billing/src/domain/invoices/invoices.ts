/** The local invoice mirror: written from invoice webhooks (re-fetched), read by GET /invoices. */
import type Stripe from 'stripe';
import type { Db, Prisma } from '../../db/prisma.js';
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

export function createInvoices({ db, stripe }: { db: Db; stripe: Stripe }) {
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
    if (!(await db.customer.findUnique({ where: { id: row.customerId }, select: { id: true } })))
      await upsertCustomer(db, await stripe.customers.retrieve(row.customerId));
    await db.invoice.upsert({ where: { id: invoiceId }, create: { id: invoiceId, ...row }, update: row });
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
