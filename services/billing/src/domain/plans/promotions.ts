/**
 * Promotion codes: a code string given to checkout is resolved to Stripe's
 * promotion code (unknown or inactive: 404 `promotion_code_not_found`); the
 * code a subscription was bought with is recorded when its checkout completes,
 * so the account page and the invoices can name it.
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { idOf } from '../../stripe/client.js';

export interface PromotionsDeps {
  db: Db;
  stripe: Stripe;
}

/** The coupon a promotion code redeems (`promotion.coupon` since API 2025-09-30.clover). */
function couponOf(promo: Stripe.PromotionCode): string | Stripe.Coupon | null {
  const legacy = (promo as unknown as { coupon?: string | Stripe.Coupon }).coupon;
  return promo.promotion?.coupon ?? legacy ?? null;
}

export function createPromotions({ db, stripe }: PromotionsDeps) {
  async function resolve(code: string): Promise<Stripe.PromotionCode> {
    const wanted = code.trim();
    const found = (await stripe.promotionCodes.list({ code: wanted, active: true, limit: 1 })).data[0];
    if (!found) throw Problems.promotionCodeNotFound(`no active promotion code "${wanted}"`);
    return found;
  }

  /** Records the discount a completed checkout redeemed on its subscription (idempotent). */
  async function recordFromCheckout(session: Stripe.Checkout.Session) {
    const subscriptionId = idOf(session.subscription);
    const applied = session.discounts?.[0];
    if (!subscriptionId || !applied) return;
    const promoId = idOf(applied.promotion_code);
    const promo = promoId ? await stripe.promotionCodes.retrieve(promoId) : null;
    const couponRef = promo ? couponOf(promo) : applied.coupon;
    if (!couponRef) return;
    const coupon = typeof couponRef === 'string' ? await stripe.coupons.retrieve(couponRef) : couponRef;
    const row = {
      promotionCodeId: promo?.id ?? null,
      code: promo?.code ?? null,
      couponId: coupon.id,
      couponName: coupon.name ?? null,
      percentOff: coupon.percent_off ?? null,
      amountOff: coupon.amount_off ?? null,
      currency: coupon.currency ?? null,
      duration: coupon.duration,
      durationInMonths: coupon.duration_in_months ?? null,
    };
    await db.planDiscount.upsert({
      where: { subscriptionId },
      create: { subscriptionId, ...row },
      update: row,
    });
  }

  async function forSubscription(subscriptionId: string) {
    return db.planDiscount.findUnique({ where: { subscriptionId } });
  }

  async function forSubscriptions(subscriptionIds: string[]) {
    return db.planDiscount.findMany({ where: { subscriptionId: { in: subscriptionIds } } });
  }

  return { resolve, recordFromCheckout, forSubscription, forSubscriptions };
}

export type Promotions = ReturnType<typeof createPromotions>;
