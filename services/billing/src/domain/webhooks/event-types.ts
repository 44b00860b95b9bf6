/**
 * The Stripe event types billing acts on: the keys of the processor's handler
 * table (processor.ts), which TypeScript holds to exactly this list. A Stripe
 * webhook endpoint for billing should subscribe to these and no others, as
 * Stripe recommends: `npm run -s -w @tollgate/billing webhook-events` prints
 * them for `stripe listen --events` and the Dashboard. An event of another
 * type that arrives anyway is stored as `ignored` and gets no job (inbox.ts).
 * Kept free of imports, so the command and the test harness load nothing else.
 */
export const HANDLED_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.pending_update_applied',
  'customer.subscription.pending_update_expired',
  'customer.subscription.trial_will_end',
  'subscription_schedule.updated',
  'subscription_schedule.released',
  'subscription_schedule.canceled',
  'subscription_schedule.completed',
  'invoice.created',
  'invoice.finalized',
  'invoice.updated',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'product.created',
  'product.updated',
  'product.deleted',
  'price.created',
  'price.updated',
  'price.deleted',
  'charge.refunded',
  'entitlements.active_entitlement_summary.updated',
] as const;

export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];
