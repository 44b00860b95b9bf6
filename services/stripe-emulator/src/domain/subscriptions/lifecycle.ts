/**
 * What time does to subscriptions: renewal, scheduled ends, failed renewals
 * and their retries, expiry of incomplete subscriptions.
 */
import type Stripe from 'stripe';
import { AUTOMATIC, type Emulator } from '../core/emulator.js';
import { newId } from '../core/ids.js';
import {
  attemptPayment,
  createInvoice,
  customerIdOf,
  finalizeInvoice,
  reactivateAfterPayment,
  subscriptionOf,
} from '../invoices/invoices.js';
import type { InvoiceLineInput } from '../invoices/objects.js';
import { applySchedulePhase } from '../subscription-schedules/schedules.js';
import { cancelSubscriptionNow, markPastDue } from './cancel.js';
import { ENDED, itemLine, nextBoundary, periodOf } from './periods.js';

/** Ends a subscription whose `cancel_at` has come. */
export function endScheduledCancel(em: Emulator, sub: Stripe.Subscription): void {
  const at = sub.cancel_at ?? em.timeOf(sub.test_clock);
  sub.status = 'canceled';
  sub.ended_at = at;
  em.emit('customer.subscription.deleted', sub, { at });
}

/**
 * Rolls the items into the next period and opens the renewal invoice (a draft
 * that finalizes later). At the end of a trial the subscription turns active
 * here; a failing (or missing) payment method makes it past_due when the
 * invoice is charged.
 */
export function renewSubscription(em: Emulator, sub: Stripe.Subscription): void {
  const before = structuredClone(sub);
  const { start: oldStart, end: oldEnd } = periodOf(sub);
  // A schedule's next phase changes the prices before the renewal bills them (or ends it all).
  if (applySchedulePhase(em, sub, oldEnd)) return;
  if (sub.status === 'trialing') sub.status = 'active';
  for (const item of sub.items.data) {
    item.current_period_start = oldEnd;
    item.current_period_end = nextBoundary(sub.billing_cycle_anchor, item.price, oldEnd);
  }
  const customer = em.store.customers.get(customerIdOf(sub.customer as string));
  if (!customer) return;
  const pending = [...em.store.invoiceItems.items.values()].filter(
    (ii) => ii.invoice === null && ii.parent?.subscription_details?.subscription === sub.id,
  );
  const invoiceId = newId('in');
  sub.latest_invoice = invoiceId;
  em.emit('customer.subscription.updated', sub, { previous: before, at: oldEnd });
  const lines: InvoiceLineInput[] = [
    ...pending.map((ii) => {
      const price =
        em.store.prices.get(String(ii.pricing?.price_details?.price ?? '')) ?? sub.items.data[0]?.price;
      return {
        amount: ii.amount,
        description: ii.description ?? '',
        price: price as Stripe.Price,
        quantity: ii.quantity,
        periodStart: ii.period.start,
        periodEnd: ii.period.end,
        subscription: sub.id,
        subscriptionItem: ii.parent?.subscription_details?.subscription_item ?? null,
        proration: true,
        invoiceItem: ii.id,
      };
    }),
    ...sub.items.data.map((i) => itemLine(em, sub, i)),
  ];
  createInvoice(em, {
    id: invoiceId,
    customer,
    subscription: sub,
    billingReason: 'subscription_cycle',
    lines,
    periodStart: oldStart,
    periodEnd: oldEnd,
    at: oldEnd,
    autoAdvance: true,
    request: AUTOMATIC,
  });
  for (const ii of pending) ii.invoice = invoiceId;
}

/** A draft renewal invoice whose hour has passed: finalize it and charge it. */
export function finalizeAndCharge(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  finalizeInvoice(em, invoice, at, AUTOMATIC);
  if (invoice.status === 'open') chargeRenewal(em, invoice, at);
  else settle(em, invoice, at);
}

/** A scheduled (re)try of an open invoice. */
export function chargeRenewal(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  const result = attemptPayment(em, invoice, at, AUTOMATIC, { scheduleRetry: true });
  if (result.paid) {
    settle(em, invoice, at);
    return;
  }
  const subId = subscriptionOf(invoice);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  if (!sub || ENDED.includes(sub.status)) return;
  markPastDue(em, sub, at);
  if (invoice.next_payment_attempt !== null) return;
  // Retries are exhausted: do what the account's subscription settings say.
  invoice.auto_advance = false;
  switch (em.payments.afterFinalRetry) {
    case 'cancel':
      cancelSubscriptionNow(em, sub, AUTOMATIC, 'payment_failed', at);
      break;
    case 'unpaid': {
      const before = structuredClone(sub);
      sub.status = 'unpaid';
      em.emit('customer.subscription.updated', sub, { previous: before, at });
      break;
    }
    case 'past_due':
      break;
  }
}

export function settle(em: Emulator, invoice: Stripe.Invoice, at: number): void {
  const subId = subscriptionOf(invoice);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  if (sub) reactivateAfterPayment(em, sub, at, AUTOMATIC);
}

/** An incomplete subscription whose first payment never came. */
export function expireIncomplete(em: Emulator, sub: Stripe.Subscription, at: number): void {
  const before = structuredClone(sub);
  sub.status = 'incomplete_expired';
  sub.ended_at = at;
  em.emit('customer.subscription.updated', sub, { previous: before, at });
  const invoiceId = typeof sub.latest_invoice === 'string' ? sub.latest_invoice : sub.latest_invoice?.id;
  const invoice = invoiceId ? em.store.invoices.get(invoiceId) : undefined;
  if (invoice && invoice.status === 'open') {
    const prev = structuredClone(invoice);
    invoice.status = 'void';
    invoice.next_payment_attempt = null;
    invoice.status_transitions.voided_at = at;
    em.emit('invoice.voided', invoice, { at });
    em.emit('invoice.updated', invoice, { at, previous: prev });
  }
}
