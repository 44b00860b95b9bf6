/**
 * Discounts in Checkout: `discounts` (one coupon or promotion code) at
 * creation, or `allow_promotion_codes` and a code the buyer types on the
 * hosted page. The session shows the discount (`discounts`,
 * `total_details.amount_discount`, a lower `amount_total`, each line's
 * `amount_discount`); it is redeemed when the session completes and, in
 * subscription mode, stays on the subscription for the invoices it covers.
 */
import type Stripe from 'stripe';
import type { Emulator } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import type { Params } from '../core/params.js';
import type { CheckoutRecord } from '../core/store.js';
import {
  type DiscountRef,
  discountRefs,
  discountShares,
  promotionCodeByCode,
  promotionCodeProblem,
} from '../discounts/apply.js';

function productOf(li: Stripe.LineItem): string | null {
  const product = li.price?.product;
  return product ? String(typeof product === 'string' ? product : product.id) : null;
}

/** Sets the session's discount fields and totals from `refs`. */
export function showDiscounts(em: Emulator, record: CheckoutRecord, refs: DiscountRef[]): void {
  const session = record.session;
  record.discountRefs = refs;
  const shares = discountShares(
    em,
    refs,
    record.lineItems.map((li) => ({ amount: li.amount_subtotal, product: productOf(li) })),
  );
  let total = 0;
  record.lineItems.forEach((li, i) => {
    li.amount_discount = shares.reduce((sum, s) => sum + (s[i] ?? 0), 0);
    li.amount_total = li.amount_subtotal - li.amount_discount;
    total += li.amount_discount;
  });
  session.discounts = refs.map((r) => ({ coupon: r.coupon, promotion_code: r.promotionCode }));
  if (session.total_details) session.total_details.amount_discount = total;
  // A trial charges nothing today whatever the discount.
  if (!record.trialDays) session.amount_total = (session.amount_subtotal ?? 0) - total;
}

export function applyCheckoutDiscounts(
  em: Emulator,
  record: CheckoutRecord,
  params: Params,
  at: number,
): void {
  const allow = params.boolean('allow_promotion_codes');
  const customer = record.session.customer ? String(record.session.customer) : null;
  const refs = discountRefs(em, params, at, customer);
  if (allow && refs.length > 0) {
    throw invalidRequest(
      'You may only specify one of these parameters: allow_promotion_codes, discounts.',
      'allow_promotion_codes',
    );
  }
  if (refs.length > 1) throw invalidRequest('Checkout takes one discount.', 'discounts');
  record.session.allow_promotion_codes = allow ?? null;
  if (refs.length > 0) showDiscounts(em, record, refs);
}

/** A code typed on the hosted page: applied when the session allows codes and the code is usable; else why not. */
export function enterPromotionCode(
  em: Emulator,
  record: CheckoutRecord,
  code: string,
  at: number,
): string | null {
  if (!record.session.allow_promotion_codes) return 'This Checkout Session does not accept promotion codes.';
  const promo = promotionCodeByCode(em, code);
  const customer = record.session.customer ? String(record.session.customer) : null;
  const problem = promo ? promotionCodeProblem(em, promo, at, customer) : 'This code is invalid.';
  if (problem || !promo) return problem ?? 'This code is invalid.';
  showDiscounts(em, record, [{ coupon: String(promo.promotion.coupon), promotionCode: promo.id }]);
  return null;
}
