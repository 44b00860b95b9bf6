/** `/v1/coupons` and `/v1/promotion_codes`: create, retrieve, update, list (coupons also delete). */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidParam, invalidRequest, missingParam } from '../core/errors.js';
import { randomToken } from '../core/ids.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { buildCoupon, buildPromotionCode } from './objects.js';

const COUPON_CREATE = [
  'id',
  'percent_off',
  'amount_off',
  'currency',
  'duration',
  'duration_in_months',
  'max_redemptions',
  'redeem_by',
  'name',
  'metadata',
  'applies_to',
  'currency_options',
];

export function createCoupon(em: Emulator, p: Params, req: RequestInfo): Stripe.Coupon {
  const params = new Params(p.raw, COUPON_CREATE);
  const id = params.string('id');
  if (id && em.store.coupons.get(id)) {
    throw invalidRequest('Coupon already exists.', 'id', 'resource_already_exists');
  }
  const percentRaw = params.string('percent_off');
  const percentOff = percentRaw === undefined || percentRaw === '' ? null : Number(percentRaw);
  const amountOff = params.integer('amount_off') ?? null;
  if ((percentOff === null) === (amountOff === null)) {
    throw invalidRequest('You must pass exactly one of amount_off or percent_off.', 'percent_off');
  }
  if (percentOff !== null && !(percentOff > 0 && percentOff <= 100)) {
    throw invalidParam('percent_off', 'percent_off must be greater than 0 and at most 100.');
  }
  const currency = params.string('currency')?.toLowerCase() ?? null;
  if (amountOff !== null && !currency) throw missingParam('currency');
  const duration = params.oneOf('duration', ['once', 'repeating', 'forever'] as const) ?? 'once';
  const months = params.integer('duration_in_months') ?? null;
  if (duration === 'repeating' && months === null) throw missingParam('duration_in_months');
  const coupon = buildCoupon({
    ...(id ? { id } : {}),
    created: em.now(),
    percentOff,
    amountOff,
    currency: amountOff !== null ? currency : null,
    duration,
    durationInMonths: duration === 'repeating' ? months : null,
    maxRedemptions: params.integer('max_redemptions') ?? null,
    redeemBy: params.integer('redeem_by') ?? null,
    name: params.nullableString('name') ?? null,
    metadata: params.metadata() ?? {},
    products: params.object('applies_to', ['products'])?.stringArray('products') ?? null,
  });
  em.store.coupons.put(coupon);
  em.emit('coupon.created', coupon, { request: req });
  return coupon;
}

export function updateCoupon(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Coupon {
  const params = new Params(p.raw, ['name', 'metadata', 'currency_options']);
  const coupon = em.store.coupons.require(id);
  const before = structuredClone(coupon);
  if (params.has('name')) coupon.name = params.nullableString('name') ?? null;
  const metadata = params.metadata(coupon.metadata ?? {});
  if (metadata) coupon.metadata = metadata;
  if (JSON.stringify(before) !== JSON.stringify(coupon)) {
    em.emit('coupon.updated', coupon, { previous: before, request: req });
  }
  return coupon;
}

export function deleteCoupon(em: Emulator, id: string, req: RequestInfo): Stripe.DeletedCoupon {
  const coupon = em.store.coupons.require(id);
  em.store.coupons.delete(id);
  em.emit('coupon.deleted', coupon, { request: { ...req, idempotencyKey: null } });
  return { id, object: 'coupon', deleted: true };
}

export function listCoupons(em: Emulator, p: Params): Stripe.ApiList<Stripe.Coupon> {
  return paginate(em.store.coupons.newestFirst(), p, '/v1/coupons', 'coupon', (c) =>
    matchesRange(p, 'created', c.created),
  );
}

/** A coupon can still be redeemed: not past `redeem_by`, not out of redemptions. */
export function couponValid(coupon: Stripe.Coupon, at: number): boolean {
  if (coupon.redeem_by !== null && at > coupon.redeem_by) return false;
  if (coupon.max_redemptions !== null && coupon.times_redeemed >= coupon.max_redemptions) return false;
  return true;
}

export function createPromotionCode(em: Emulator, p: Params, req: RequestInfo): Stripe.PromotionCode {
  const params = new Params(p.raw, [
    'promotion',
    'code',
    'active',
    'customer',
    'expires_at',
    'max_redemptions',
    'metadata',
    'restrictions',
    // Older API versions named the coupon directly.
    'coupon',
  ]);
  const promotion = params.object('promotion', ['type', 'coupon']);
  const couponId = promotion?.string('coupon') ?? params.string('coupon');
  if (!couponId) throw missingParam('promotion[coupon]');
  const coupon = em.store.coupons.require(couponId, 'promotion[coupon]');
  const code = params.string('code') ?? randomToken(8).toUpperCase();
  const clash = em.store.promotionCodes
    .newestFirst()
    .find((x) => x.active && x.code.toLowerCase() === code.toLowerCase());
  if (clash) {
    throw invalidRequest(
      'An active promotion code with `code` already exists.',
      'code',
      'duplicate_promotion_code',
    );
  }
  const customer = params.string('customer') ?? null;
  if (customer) em.store.customers.require(customer, 'customer');
  const restrictions = params.object('restrictions', [
    'first_time_transaction',
    'minimum_amount',
    'minimum_amount_currency',
    'currency_options',
  ]);
  const promo = buildPromotionCode({
    created: em.now(),
    code,
    coupon: coupon.id,
    active: params.boolean('active') ?? true,
    customer,
    expiresAt: params.integer('expires_at') ?? null,
    maxRedemptions: params.integer('max_redemptions') ?? null,
    metadata: params.metadata() ?? {},
    firstTimeTransaction: restrictions?.boolean('first_time_transaction') ?? false,
    minimumAmount: restrictions?.integer('minimum_amount') ?? null,
    minimumAmountCurrency: restrictions?.string('minimum_amount_currency')?.toLowerCase() ?? null,
  });
  em.store.promotionCodes.put(promo);
  em.emit('promotion_code.created', promo, { request: req });
  return promo;
}

export function updatePromotionCode(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.PromotionCode {
  const params = new Params(p.raw, ['active', 'metadata', 'restrictions']);
  const promo = em.store.promotionCodes.require(id);
  const before = structuredClone(promo);
  if (params.has('active')) promo.active = params.boolean('active') ?? promo.active;
  const metadata = params.metadata(promo.metadata ?? {});
  if (metadata) promo.metadata = metadata;
  if (JSON.stringify(before) !== JSON.stringify(promo)) {
    em.emit('promotion_code.updated', promo, { previous: before, request: req });
  }
  return promo;
}

export function listPromotionCodes(em: Emulator, p: Params): Stripe.ApiList<Stripe.PromotionCode> {
  const active = p.boolean('active');
  const code = p.string('code');
  const coupon = p.string('coupon');
  const customer = p.string('customer');
  return paginate(
    em.store.promotionCodes.newestFirst(),
    p,
    '/v1/promotion_codes',
    'promotion_code',
    (x) =>
      (active === undefined || x.active === active) &&
      (code === undefined || x.code.toLowerCase() === code.toLowerCase()) &&
      (coupon === undefined || x.promotion.coupon === coupon) &&
      (customer === undefined || x.customer === customer) &&
      matchesRange(p, 'created', x.created),
  );
}
