/**
 * Redeeming coupons and promotion codes into Discounts, and what a discount
 * takes off: a percentage or an amount of the lines it applies to (all, or
 * those of `applies_to.products`), spread over those lines. `once` discounts
 * apply to one invoice and then leave the subscription; `repeating` ones end
 * after `duration_in_months`; `forever` ones stay.
 */
import type Stripe from 'stripe';
import { AUTOMATIC, type Emulator, type RequestInfo } from '../core/emulator.js';
import { invalidParam, invalidRequest } from '../core/errors.js';
import { Params } from '../core/params.js';
import type { DiscountRef } from '../core/store.js';
import { couponValid } from './coupons.js';
import { buildDiscount } from './objects.js';

export type { DiscountRef };

/** `discounts[i][coupon]` / `discounts[i][promotion_code]`. */
export function discountRefs(
  em: Emulator,
  params: Params,
  at: number,
  customer: string | null,
): DiscountRef[] {
  const raw = params.array('discounts');
  if (!raw) return [];
  return raw.map((entry, i) => {
    const p = new Params(entry, ['coupon', 'promotion_code'], `discounts[${i}]`);
    const promo = p.string('promotion_code');
    if (promo) return refFromPromotionCode(em, promo, at, customer, `discounts[${i}][promotion_code]`);
    const coupon = p.string('coupon');
    if (!coupon) throw invalidParam(`discounts[${i}]`, 'Pass a coupon or a promotion_code.');
    const found = em.store.coupons.require(coupon, `discounts[${i}][coupon]`);
    if (!couponValid(found, at)) {
      throw invalidRequest(
        `Coupon ${coupon} is no longer valid.`,
        `discounts[${i}][coupon]`,
        'coupon_expired',
      );
    }
    return { coupon, promotionCode: null };
  });
}

/** A promotion code by id, checked against its restrictions. */
export function refFromPromotionCode(
  em: Emulator,
  id: string,
  at: number,
  customer: string | null,
  param: string,
): DiscountRef {
  const promo = em.store.promotionCodes.require(id, param);
  const problem = promotionCodeProblem(em, promo, at, customer);
  if (problem) throw invalidRequest(problem, param, 'promotion_code_invalid');
  return { coupon: String(promo.promotion.coupon), promotionCode: promo.id };
}

/** Why a promotion code cannot be used now, or null when it can. */
export function promotionCodeProblem(
  em: Emulator,
  promo: Stripe.PromotionCode,
  at: number,
  customer: string | null,
): string | null {
  if (!promo.active) return 'This promotion code is inactive.';
  if (promo.expires_at !== null && at > promo.expires_at) return 'This promotion code has expired.';
  if (promo.max_redemptions !== null && promo.times_redeemed >= promo.max_redemptions) {
    return 'This promotion code has been fully redeemed.';
  }
  if (promo.customer && promo.customer !== customer)
    return 'This promotion code cannot be used by this customer.';
  const coupon = em.store.coupons.get(String(promo.promotion.coupon));
  if (!coupon || !couponValid(coupon, at)) return 'The coupon behind this promotion code is no longer valid.';
  return null;
}

/** The active promotion code with this customer-facing code (case-insensitive), if any. */
export function promotionCodeByCode(em: Emulator, code: string): Stripe.PromotionCode | undefined {
  const wanted = code.trim().toLowerCase();
  return em.store.promotionCodes.newestFirst().find((p) => p.active && p.code.toLowerCase() === wanted);
}

function addMonths(at: number, months: number): number {
  const d = new Date(at * 1000);
  d.setUTCMonth(d.getUTCMonth() + months);
  return Math.floor(d.getTime() / 1000);
}

/** Turns refs into stored Discounts and counts the redemptions. */
export function redeem(
  em: Emulator,
  refs: DiscountRef[],
  owner: {
    customer: string | null;
    subscription?: string | null;
    checkoutSession?: string | null;
    invoice?: string | null;
  },
  at: number,
  req: RequestInfo = AUTOMATIC,
): Stripe.Discount[] {
  return refs.map((ref) => {
    const coupon = em.store.coupons.require(ref.coupon, 'coupon');
    coupon.times_redeemed += 1;
    coupon.valid = couponValid(coupon, at);
    if (ref.promotionCode) {
      const promo = em.store.promotionCodes.get(ref.promotionCode);
      if (promo) promo.times_redeemed += 1;
    }
    const discount = buildDiscount({
      coupon,
      promotionCode: ref.promotionCode,
      customer: owner.customer,
      subscription: owner.subscription ?? null,
      checkoutSession: owner.checkoutSession ?? null,
      invoice: owner.invoice ?? null,
      start: at,
      end:
        coupon.duration === 'repeating' && coupon.duration_in_months
          ? addMonths(at, coupon.duration_in_months)
          : null,
    });
    em.store.discounts.put(discount);
    // A discount that stays on a subscription is announced as the customer's, as Stripe does.
    if (discount.subscription) em.emit('customer.discount.created', discount, { request: req, at });
    return discount;
  });
}

/** A subscription's discount comes off (used up, ended, or replaced). */
export function endDiscount(
  em: Emulator,
  discount: Stripe.Discount,
  at: number,
  req: RequestInfo = AUTOMATIC,
): void {
  if (discount.end === null || discount.end > at) discount.end = at;
  em.emit('customer.discount.deleted', discount, { request: req, at });
}

interface Priced {
  amount: number;
  product: string | null;
}

/** What each discount takes off each line: `[discountIndex][lineIndex]`. */
export function discountShares(em: Emulator, refs: DiscountRef[], lines: Priced[]): number[][] {
  const remaining = lines.map((l) => Math.max(l.amount, 0));
  return refs.map((ref) => {
    const coupon = em.store.coupons.require(ref.coupon, 'coupon');
    const products = coupon.applies_to?.products;
    const eligible = lines.map((l, i) =>
      !products || (l.product !== null && products.includes(l.product)) ? i : -1,
    );
    const base = eligible.reduce((sum, i) => (i < 0 ? sum : sum + (remaining[i] ?? 0)), 0);
    const total =
      coupon.percent_off !== null
        ? Math.round((base * coupon.percent_off) / 100)
        : Math.min(coupon.amount_off ?? 0, base);
    const shares = lines.map(() => 0);
    let left = total;
    const last = eligible.filter((i) => i >= 0).at(-1);
    for (const i of eligible) {
      if (i < 0) continue;
      const share = i === last ? left : Math.floor((total * (remaining[i] ?? 0)) / (base || 1));
      shares[i] = share;
      left -= share;
      remaining[i] = (remaining[i] ?? 0) - share;
    }
    return shares;
  });
}

function productOfLine(line: Stripe.InvoiceLineItem): string | null {
  const product = line.pricing?.price_details?.product;
  return product ? String(product) : null;
}

/** Applies a subscription's (or a manual invoice's) discounts to a draft invoice's lines and totals. */
export function applyToInvoice(em: Emulator, invoice: Stripe.Invoice, discounts: Stripe.Discount[]): void {
  if (discounts.length === 0) return;
  const refs = discounts.map((d) => ({ coupon: String(d.source.coupon), promotionCode: null }));
  const lines = invoice.lines.data;
  const shares = discountShares(
    em,
    refs,
    lines.map((l) => ({ amount: l.discountable ? l.amount : 0, product: productOfLine(l) })),
  );
  invoice.discounts = discounts.map((d) => d.id);
  invoice.total_discount_amounts = discounts.map((d, k) => ({
    amount: (shares[k] ?? []).reduce((a, b) => a + b, 0),
    discount: d.id,
  }));
  lines.forEach((line, i) => {
    line.discount_amounts = discounts.map((d, k) => ({ amount: shares[k]?.[i] ?? 0, discount: d.id }));
    line.discounts = discounts.map((d) => d.id);
  });
}

/**
 * The discounts a subscription's next invoice gets: ended ones (past their
 * `end`) leave the subscription; `once` ones are used up by this invoice.
 */
export function takeSubscriptionDiscounts(
  em: Emulator,
  sub: Stripe.Subscription,
  at: number,
): Stripe.Discount[] {
  const held = sub.discounts
    .map((d) => em.store.discounts.get(typeof d === 'string' ? d : d.id))
    .filter((d): d is Stripe.Discount => d !== undefined);
  const ended = held.filter((d) => d.end !== null && d.end <= at);
  const all = held.filter((d) => !ended.includes(d));
  const once = all.filter((d) => em.store.coupons.get(String(d.source.coupon))?.duration === 'once');
  sub.discounts = all.filter((d) => !once.includes(d)).map((d) => d.id);
  for (const d of [...ended, ...once]) endDiscount(em, d, at);
  return all;
}
