/** The SubscriptionSchedule object and its phases, in Stripe's shape. */
import type Stripe from 'stripe';
import { newId } from '../core/ids.js';

export interface PhaseInput {
  start: number;
  end: number;
  items: { price: Stripe.Price; quantity: number }[];
  prorationBehavior: Stripe.SubscriptionSchedule.Phase.ProrationBehavior;
  metadata: Stripe.Metadata;
}

export function buildPhase(input: PhaseInput): Stripe.SubscriptionSchedule.Phase {
  return {
    add_invoice_items: [],
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: null,
    collection_method: null,
    currency: input.items[0]?.price.currency ?? 'usd',
    default_payment_method: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    end_date: input.end,
    invoice_settings: null,
    items: input.items.map((i) => ({
      billing_thresholds: null,
      discounts: [],
      metadata: {},
      plan: i.price.id,
      price: i.price.id,
      quantity: i.quantity,
      tax_rates: [],
    })),
    metadata: input.metadata,
    on_behalf_of: null,
    proration_behavior: input.prorationBehavior,
    start_date: input.start,
    transfer_data: null,
    trial_end: null,
  } as unknown as Stripe.SubscriptionSchedule.Phase;
}

export function buildSchedule(input: {
  created: number;
  customer: string;
  subscription: string;
  testClock: string | null;
  phases: Stripe.SubscriptionSchedule.Phase[];
}): Stripe.SubscriptionSchedule {
  const first = input.phases[0];
  return {
    id: newId('sub_sched'),
    object: 'subscription_schedule',
    application: null,
    billing_mode: { type: 'classic' },
    canceled_at: null,
    completed_at: null,
    created: input.created,
    current_phase: first ? { start_date: first.start_date, end_date: first.end_date } : null,
    customer: input.customer,
    customer_account: null,
    default_settings: {
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: 'automatic',
      billing_thresholds: null,
      collection_method: 'charge_automatically',
      default_payment_method: null,
      description: null,
      invoice_settings: { account_tax_ids: null, days_until_due: null, issuer: { type: 'self' } },
      on_behalf_of: null,
      transfer_data: null,
    },
    end_behavior: 'release',
    livemode: false,
    metadata: {},
    phases: input.phases,
    released_at: null,
    released_subscription: null,
    status: 'active',
    subscription: input.subscription,
    test_clock: input.testClock,
  } as unknown as Stripe.SubscriptionSchedule;
}
