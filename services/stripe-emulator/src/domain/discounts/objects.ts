/** Coupon, PromotionCode and Discount objects. */
import type Stripe from 'stripe';
import { newId, randomToken } from '../core/ids.js';

export function buildCoupon(input: {
  id?: string;
  created: number;
  percentOff: number | null;
  amountOff: number | null;
  currency: string | null;
  duration: Stripe.Coupon.Duration;
  durationInMonths: number | null;
  maxRedemptions: number | null;
  redeemBy: number | null;
  name: string | null;
  metadata: Stripe.Metadata;
  products: string[] | null;
}): Stripe.Coupon {
  return {
    id: input.id ?? randomToken(8),
    object: 'coupon',
    amount_off: input.amountOff,
    ...(input.products ? { applies_to: { products: input.products } } : {}),
    created: input.created,
    currency: input.currency,
    duration: input.duration,
    duration_in_months: input.durationInMonths,
    livemode: false,
    max_redemptions: input.maxRedemptions,
    metadata: input.metadata,
    name: input.name,
    percent_off: input.percentOff,
    redeem_by: input.redeemBy,
    times_redeemed: 0,
    valid: true,
  };
}

export function buildPromotionCode(input: {
  created: number;
  code: string;
  coupon: string;
  active: boolean;
  customer: string | null;
  expiresAt: number | null;
  maxRedemptions: number | null;
  metadata: Stripe.Metadata;
  firstTimeTransaction: boolean;
  minimumAmount: number | null;
  minimumAmountCurrency: string | null;
}): Stripe.PromotionCode {
  return {
    id: newId('promo'),
    object: 'promotion_code',
    active: input.active,
    code: input.code,
    created: input.created,
    customer: input.customer,
    customer_account: null,
    expires_at: input.expiresAt,
    livemode: false,
    max_redemptions: input.maxRedemptions,
    metadata: input.metadata,
    promotion: { coupon: input.coupon, type: 'coupon' },
    restrictions: {
      first_time_transaction: input.firstTimeTransaction,
      minimum_amount: input.minimumAmount,
      minimum_amount_currency: input.minimumAmountCurrency,
    },
    times_redeemed: 0,
  };
}

export function buildDiscount(input: {
  coupon: Stripe.Coupon;
  promotionCode: string | null;
  customer: string | null;
  subscription: string | null;
  checkoutSession: string | null;
  invoice: string | null;
  start: number;
  end: number | null;
}): Stripe.Discount {
  return {
    id: newId('di'),
    object: 'discount',
    checkout_session: input.checkoutSession,
    customer: input.customer,
    customer_account: null,
    end: input.end,
    invoice: input.invoice,
    invoice_item: null,
    promotion_code: input.promotionCode,
    source: { coupon: input.coupon.id, type: 'coupon' },
    start: input.start,
    subscription: input.subscription,
    subscription_item: null,
  };
}
