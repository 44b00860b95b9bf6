/** Product, Price and the legacy Plan derived from a recurring price. */
import type Stripe from 'stripe';
import { newId } from '../core/ids.js';
import { decimal } from '../core/shapes.js';

export function buildProduct(input: {
  id?: string;
  created: number;
  name: string;
  description: string | null;
  active: boolean;
  metadata: Stripe.Metadata;
  url: string | null;
  unitLabel: string | null;
  statementDescriptor: string | null;
}): Stripe.Product {
  return {
    id: input.id ?? newId('prod'),
    object: 'product',
    active: input.active,
    created: input.created,
    default_price: null,
    description: input.description,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: input.metadata,
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: input.statementDescriptor,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: input.unitLabel,
    updated: input.created,
    url: input.url,
  };
}

export function buildPrice(input: {
  id?: string;
  created: number;
  product: string;
  currency: string;
  unitAmount: number;
  active: boolean;
  nickname: string | null;
  lookupKey: string | null;
  metadata: Stripe.Metadata;
  recurring: { interval: Stripe.Price.Recurring.Interval; intervalCount: number } | null;
  taxBehavior: Stripe.Price.TaxBehavior;
}): Stripe.Price {
  return {
    id: input.id ?? newId('price'),
    object: 'price',
    active: input.active,
    billing_scheme: 'per_unit',
    created: input.created,
    currency: input.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: input.lookupKey,
    metadata: input.metadata,
    nickname: input.nickname,
    product: input.product,
    recurring: input.recurring
      ? {
          interval: input.recurring.interval,
          interval_count: input.recurring.intervalCount,
          meter: null,
          trial_period_days: null,
          usage_type: 'licensed',
        }
      : null,
    tax_behavior: input.taxBehavior,
    tiers_mode: null,
    transform_quantity: null,
    type: input.recurring ? 'recurring' : 'one_time',
    unit_amount: input.unitAmount,
    unit_amount_decimal: decimal(input.unitAmount),
  };
}

/** The legacy `plan` that subscription items still carry, derived from a recurring price. */
export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring ?? {
    interval: 'month' as const,
    interval_count: 1,
    meter: null,
    trial_period_days: null,
    usage_type: 'licensed' as const,
  };
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring.interval,
    interval_count: recurring.interval_count,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: recurring.trial_period_days,
    usage_type: recurring.usage_type,
  };
}
