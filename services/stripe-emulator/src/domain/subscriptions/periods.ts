/**
 * Billing periods: they live on the items, as in the API version the SDK pins,
 * counted from the billing cycle anchor; and the invoice line for an item's period.
 */
import type Stripe from 'stripe';
import type { Emulator } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import type { InvoiceLineInput } from '../invoices/objects.js';

export type Interval = Stripe.Price.Recurring.Interval;

export const DAY = 86400;

/** Stripe expires an incomplete subscription 23 hours after creation. */
export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;

export const ENDED = ['canceled', 'incomplete_expired'];

/** The n-th period boundary after `anchor`, keeping the anchor's day of month where the month has it. */
export function addIntervals(anchor: number, interval: Interval, count: number, n: number): number {
  const d = new Date(anchor * 1000);
  switch (interval) {
    case 'day':
      return anchor + n * count * DAY;
    case 'week':
      return anchor + n * count * 7 * DAY;
    case 'month':
    case 'year': {
      const months = (interval === 'year' ? 12 : 1) * count * n;
      const targetMonth = d.getUTCMonth() + months;
      const year = d.getUTCFullYear() + Math.floor(targetMonth / 12);
      const month = ((targetMonth % 12) + 12) % 12;
      const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
      const day = Math.min(d.getUTCDate(), lastDay);
      return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
    }
    default:
      return anchor + n * count * 30 * DAY;
  }
}

export function recurringOf(price: Stripe.Price, param: string): { interval: Interval; count: number } {
  if (!price.recurring) {
    throw invalidRequest(
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      param,
    );
  }
  return { interval: price.recurring.interval, count: price.recurring.interval_count };
}

/** The end of the period that contains `start`, counted from the billing cycle anchor. */
export function nextBoundary(anchor: number, price: Stripe.Price, after: number): number {
  const { interval, count } = recurringOf(price, 'price');
  let n = 1;
  let end = addIntervals(anchor, interval, count, n);
  while (end <= after) end = addIntervals(anchor, interval, count, ++n);
  return end;
}

export function periodOf(sub: Stripe.Subscription): { start: number; end: number } {
  const first = sub.items.data[0];
  return { start: first?.current_period_start ?? sub.created, end: first?.current_period_end ?? sub.created };
}

export function productName(em: Emulator, price: Stripe.Price): string {
  const id = typeof price.product === 'string' ? price.product : price.product.id;
  return em.store.products.get(id)?.name ?? id;
}

export function money(amount: number, currency: string): string {
  return `${currency === 'usd' ? '$' : `${currency.toUpperCase()} `}${(amount / 100).toFixed(2)}`;
}

export function itemLine(
  em: Emulator,
  sub: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
): InvoiceLineInput {
  const quantity = item.quantity ?? 1;
  const unit = item.price.unit_amount ?? 0;
  const interval = item.price.recurring?.interval ?? 'month';
  return {
    amount: unit * quantity,
    description: `${quantity} × ${productName(em, item.price)} (at ${money(unit, item.price.currency)} / ${interval})`,
    price: item.price,
    quantity,
    periodStart: item.current_period_start,
    periodEnd: item.current_period_end,
    subscription: sub.id,
    subscriptionItem: item.id,
    proration: false,
    invoiceItem: null,
  };
}

/** The 0 line of a trial's first invoice: "Trial period for <product>". */
export function trialLine(
  em: Emulator,
  sub: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
): InvoiceLineInput {
  return {
    ...itemLine(em, sub, item),
    amount: 0,
    description: `Trial period for ${productName(em, item.price)}`,
  };
}
