/** Database rows -> API shapes (snake_case, ISO dates). */

import type { Plans } from '../../domain/plans/plans.js';
import { isSetToCancel } from '../../domain/subscriptions/subscription-sync.js';
import type { SubscriptionsService } from '../../domain/subscriptions/subscriptions.service.js';

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

type SubscriptionWithPrice = Awaited<ReturnType<SubscriptionsService['current']>>;
type Extras = Awaited<ReturnType<Plans['extrasOf']>>;
type Described = Awaited<ReturnType<Plans['describe']>>;

/** GET /subscription's shape: the base plan as before, plus its extras and `addons`. */
export function describedView(d: Described) {
  return { ...subscriptionView(d, d), addons: d.addons.map((a) => subscriptionView(a, a)) };
}

function extrasView(e: Extras) {
  const { trial, discount, pendingChange, pendingPrice } = e;
  return {
    trial: trial
      ? {
          outcome: trial.outcome,
          days: trial.trialDays,
          ends_at: iso(trial.trialEnd),
          note: trial.reason,
          will_end_notified_at: iso(trial.willEndNotifiedAt),
        }
      : null,
    discount: discount
      ? {
          promotion_code: discount.code,
          coupon_name: discount.couponName,
          percent_off: discount.percentOff,
          amount_off: discount.amountOff,
          currency: discount.currency,
          duration: discount.duration,
          duration_in_months: discount.durationInMonths,
        }
      : null,
    pending_change: pendingChange
      ? {
          price_id: pendingChange.toPriceId,
          product_name: pendingPrice?.product.name ?? null,
          effective_at: pendingChange.effectiveAt.toISOString(),
        }
      : null,
  };
}

export function subscriptionView(s: SubscriptionWithPrice, extras: Extras) {
  return {
    ...extrasView(extras),
    id: s.id,
    status: s.status,
    customer_id: s.customerId,
    plan: s.priceId
      ? {
          price_id: s.priceId,
          product_id: s.productId,
          product_name: s.price?.product.name ?? null,
          role: s.price?.product.role ?? null,
          unit_amount: s.price?.unitAmount ?? null,
          currency: s.price?.currency ?? null,
          interval: s.price?.interval ?? null,
        }
      : null,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    cancel_at: iso(s.cancelAt),
    canceled_at: iso(s.canceledAt),
    ended_at: iso(s.endedAt),
    set_to_cancel: isSetToCancel(s),
    current_period_start: iso(s.currentPeriodStart),
    current_period_end: iso(s.currentPeriodEnd),
    entitled_role: s.entitledRole,
    grace_period_ends_at: s.status === 'past_due' ? iso(s.entitlementExpiresAt) : null,
    dunning: dunningView(s),
  };
}

type DunningStateName = 'active' | 'past_due' | 'restricted' | 'revoked' | 'inactive';
const DUNNING_STATES = new Set(['active', 'past_due', 'restricted', 'revoked', 'inactive']);

/** The stored dunning step (written by the apply step; domain/dunning decides it). */
export function dunningView(s: {
  dunningState: string | null;
  dunningNextState: string | null;
  dunningNextStepAt: Date | null;
}) {
  return {
    state: (DUNNING_STATES.has(s.dunningState ?? '') ? s.dunningState : 'inactive') as DunningStateName,
    next_state: s.dunningNextStepAt ? s.dunningNextState : null,
    next_step_at: iso(s.dunningNextStepAt),
  };
}

interface InvoiceDiscountSource {
  raw: unknown;
  subscriptionId: string | null;
}

/** The invoice's subtotal and discount (from Stripe's object), and the code the discount came from. */
export function invoiceDiscount(i: InvoiceDiscountSource, codes: Map<string, string | null>) {
  const raw = (i.raw ?? {}) as { subtotal?: number; total_discount_amounts?: { amount: number }[] };
  const discount = (raw.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
  return {
    discount_amount: discount,
    promotion_code: discount > 0 && i.subscriptionId ? (codes.get(i.subscriptionId) ?? null) : null,
    subtotal: raw.subtotal ?? 0,
  };
}

export function invoiceView(
  i: {
    id: string;
    number: string | null;
    status: string | null;
    subscriptionId: string | null;
    currency: string;
    amountDue: number;
    amountPaid: number;
    total: number;
    billingReason: string | null;
    hostedInvoiceUrl: string | null;
    invoicePdf: string | null;
    periodStart: Date | null;
    periodEnd: Date | null;
    stripeCreatedAt: Date;
    raw: unknown;
  },
  codes: Map<string, string | null> = new Map(),
) {
  return {
    ...invoiceDiscount(i, codes),
    id: i.id,
    number: i.number,
    status: i.status,
    subscription_id: i.subscriptionId,
    currency: i.currency,
    amount_due: i.amountDue,
    amount_paid: i.amountPaid,
    total: i.total,
    billing_reason: i.billingReason,
    hosted_invoice_url: i.hostedInvoiceUrl,
    invoice_pdf: i.invoicePdf,
    period_start: iso(i.periodStart),
    period_end: iso(i.periodEnd),
    created: i.stripeCreatedAt.toISOString(),
  };
}
