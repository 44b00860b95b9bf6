import { type TSchema, Type } from '@sinclair/typebox';

export const ProblemRef = Type.Ref('Problem');

export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemRef]));
}

export const bearerSecurity = [{ bearerAuth: [] }];

export const PriceId = Type.String({
  pattern: '^price_[A-Za-z0-9_]{1,200}$',
  description: 'A Stripe price id',
  examples: ['price_tollgate_premium_monthly'],
});

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const PriceView = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('recurring'), Type.Literal('one_time')], {
    description: 'one_time prices are bought once (Checkout mode=payment): for good, or for duration_days',
  }),
  currency: Type.String(),
  unit_amount: Nullable(Type.Integer({ description: 'In the smallest currency unit (cents)' })),
  interval: Nullable(Type.String()),
  interval_count: Nullable(Type.Integer()),
  lookup_key: Nullable(Type.String()),
  nickname: Nullable(Type.String()),
  trial_period_days: Nullable(
    Type.Integer({ description: 'The free trial a first checkout of this price gives (metadata)' }),
  ),
});

export const ProductView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  role: Nullable(Type.String({ description: 'The role a subscription to this product grants' })),
  features: Type.Record(Type.String(), Type.Union([Type.Literal(true), Type.Integer({ minimum: 0 })]), {
    description:
      'Stripe Entitlements features of the product: true, or the limit from feature metadata `limit`',
  }),
  addon: Type.Boolean({ description: 'An add-on, bought beside a plan (metadata tollgate_addon=true)' }),
  prices: Type.Array(PriceView),
});

export const PromotionCode = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'A promotion code as customers type it (case-insensitive)',
  examples: ['WELCOME20'],
});

export const CheckoutView = Type.Object({
  checkout_session_id: Type.String(),
  checkout_session_url: Type.String(),
  trial_period_days: Nullable(
    Type.Integer({ description: 'The free trial this checkout gives (null: none)' }),
  ),
  trial_note: Nullable(Type.String({ description: 'Why a price that offers a trial gives this user none' })),
  amount_discount: Type.Integer({
    description: 'The discount on the first payment from the promotion code given (cents)',
  }),
});

const SubscriptionCore = {
  id: Type.String(),
  status: Type.String({ description: 'Stripe status: active, trialing, past_due, canceled, unpaid, ...' }),
  customer_id: Type.String(),
  plan: Nullable(
    Type.Object({
      price_id: Type.String(),
      product_id: Nullable(Type.String()),
      product_name: Nullable(Type.String()),
      role: Nullable(Type.String()),
      unit_amount: Nullable(Type.Integer()),
      currency: Nullable(Type.String()),
      interval: Nullable(Type.String()),
    }),
  ),
  cancel_at_period_end: Type.Boolean(),
  cancel_at: Nullable(DateTime),
  canceled_at: Nullable(DateTime),
  ended_at: Nullable(DateTime),
  set_to_cancel: Type.Boolean({ description: 'Ends at cancel_at (or the period end) unless resumed' }),
  current_period_start: Nullable(DateTime),
  current_period_end: Nullable(DateTime),
  entitled_role: Nullable(Type.String({ description: 'The role this subscription grants now' })),
  grace_period_ends_at: Nullable(DateTime),
  dunning: Type.Object({
    state: Type.Union(
      [
        Type.Literal('active'),
        Type.Literal('past_due'),
        Type.Literal('restricted'),
        Type.Literal('revoked'),
        Type.Literal('inactive'),
      ],
      { description: 'active -> past_due (access kept) -> restricted (optional) -> revoked' },
    ),
    next_state: Nullable(
      Type.String({ description: 'The step it takes by itself (null: waits for Stripe)' }),
    ),
    next_step_at: Nullable(DateTime),
  }),
  trial: Nullable(
    Type.Object({
      outcome: Type.String({ description: 'granted, or refused (the card had a trial on another account)' }),
      days: Type.Integer(),
      ends_at: Nullable(DateTime),
      note: Nullable(Type.String()),
      will_end_notified_at: Nullable(
        Type.String({ format: 'date-time', description: 'When Stripe announced the trial ends soon' }),
      ),
    }),
  ),
  discount: Nullable(
    Type.Object({
      promotion_code: Nullable(Type.String()),
      coupon_name: Nullable(Type.String()),
      percent_off: Nullable(Type.Number()),
      amount_off: Nullable(Type.Integer()),
      currency: Nullable(Type.String()),
      duration: Type.String({ description: 'once, repeating or forever' }),
      duration_in_months: Nullable(Type.Integer()),
    }),
  ),
  pending_change: Nullable(
    Type.Object({
      price_id: Type.String(),
      product_name: Nullable(Type.String()),
      effective_at: DateTime,
    }),
  ),
};

export const AddonSubscriptionView = Type.Object(SubscriptionCore);

export const SubscriptionView = Type.Object({
  ...SubscriptionCore,
  addons: Type.Array(AddonSubscriptionView, {
    description: 'Live add-on subscriptions beside the plan (each in the same shape, without addons)',
  }),
});

const FeatureValue = Type.Union([Type.Literal(true), Type.Integer({ minimum: 0 })]);

export const EntitlementsView = Type.Object({
  features: Type.Record(Type.String(), FeatureValue, {
    description: '{ lookup_key: true | limit }',
    examples: [{ hd_streaming: true, projects: 10 }],
  }),
  roles: Type.Array(Type.String()),
  version: Type.Integer({ description: 'Per user, grows by one with every change (0: never had any)' }),
  source: Type.Array(
    Type.Object({
      type: Type.Union([Type.Literal('subscription'), Type.Literal('purchase')]),
      id: Type.String(),
      product_id: Nullable(Type.String()),
      state: Type.String({ description: 'Dunning state of a subscription; paid for a purchase' }),
      until: Nullable(DateTime),
      role: Nullable(Type.String()),
      features: Type.Record(Type.String(), FeatureValue),
    }),
  ),
});

export const EntitlementCheckView = Type.Object({
  allowed: Type.Boolean(),
  limit: Nullable(Type.Integer({ description: 'null: a boolean feature (or not allowed)' })),
});

export const InvoiceView = Type.Object({
  id: Type.String(),
  number: Nullable(Type.String()),
  status: Nullable(Type.String()),
  subscription_id: Nullable(Type.String()),
  currency: Type.String(),
  amount_due: Type.Integer(),
  amount_paid: Type.Integer(),
  total: Type.Integer(),
  billing_reason: Nullable(Type.String()),
  hosted_invoice_url: Nullable(Type.String()),
  invoice_pdf: Nullable(Type.String()),
  period_start: Nullable(DateTime),
  period_end: Nullable(DateTime),
  created: DateTime,
  subtotal: Type.Integer({ description: 'Before discounts (cents)' }),
  discount_amount: Type.Integer({ description: 'Taken off by discounts (cents)' }),
  promotion_code: Nullable(Type.String({ description: 'The code whose discount this invoice carries' })),
});
