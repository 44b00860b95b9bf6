/** An invoice's amounts follow its lines and the discount amounts set on it (discounts/apply.ts). */
import type Stripe from 'stripe';

export function recomputeTotals(invoice: Stripe.Invoice): void {
  const subtotal = invoice.lines.data.reduce((sum, l) => sum + l.amount, 0);
  const discount = (invoice.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
  const total = subtotal - discount;
  invoice.subtotal = subtotal;
  invoice.subtotal_excluding_tax = subtotal;
  invoice.total = total;
  invoice.total_excluding_tax = total;
  invoice.amount_due = Math.max(total, 0);
  invoice.amount_remaining = Math.max(total, 0) - invoice.amount_paid;
}
