/**
 * The product catalogue every world starts with (emulator at start, real
 * Stripe through `npm run seed-stripe`). Prices are matched across worlds by
 * `lookup_key`; products keep the same ids in both (Stripe accepts an `id` on
 * product creation).
 */
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Emulator } from '../core/emulator.js';
import { buildCoupon, buildPromotionCode } from '../discounts/objects.js';
import { buildPrice, buildProduct } from './objects.js';

const PriceSeed = Type.Object({
  id: Type.String({ pattern: '^price_' }),
  lookup_key: Type.String(),
  nickname: Type.String(),
  currency: Type.String(),
  unit_amount: Type.Integer({ minimum: 0 }),
  interval: Type.Union([
    Type.Literal('day'),
    Type.Literal('week'),
    Type.Literal('month'),
    Type.Literal('year'),
  ]),
  /** e.g. `trial_period_days`: billing reads it to offer a trial on this price. */
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
});
const ProductSeed = Type.Object({
  id: Type.String({ pattern: '^prod_' }),
  name: Type.String(),
  description: Type.String(),
  metadata: Type.Record(Type.String(), Type.String()),
  prices: Type.Array(PriceSeed),
});
/** A coupon and the customer-facing codes that redeem it. */
const CouponSeed = Type.Object({
  id: Type.String(),
  name: Type.String(),
  percent_off: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
  duration: Type.Union([Type.Literal('once'), Type.Literal('repeating'), Type.Literal('forever')]),
  duration_in_months: Type.Optional(Type.Integer({ minimum: 1 })),
  promotion_codes: Type.Array(Type.Object({ code: Type.String() })),
});
export const CatalogueSchema = Type.Object({
  products: Type.Array(ProductSeed),
  coupons: Type.Optional(Type.Array(CouponSeed)),
});
export type Catalogue = Static<typeof CatalogueSchema>;

export const BUILT_IN_CATALOGUE = new URL('../../seed/catalogue.json', import.meta.url);

export function readCatalogue(file?: string): Catalogue {
  const data: unknown = JSON.parse(readFileSync(file ?? BUILT_IN_CATALOGUE, 'utf8'));
  if (!Value.Check(CatalogueSchema, data)) {
    const first = [...Value.Errors(CatalogueSchema, data)][0];
    throw new Error(`Invalid catalogue ${file ?? 'built-in'}: ${first?.path} ${first?.message}`);
  }
  return data;
}

/** Puts the catalogue in place silently, as if it had always been in the account (no events). */
export function seedCatalogue(em: Emulator, catalogue: Catalogue): void {
  const created = em.now();
  for (const p of catalogue.products) {
    const product = buildProduct({
      id: p.id,
      created,
      name: p.name,
      description: p.description,
      active: true,
      metadata: { ...p.metadata },
      url: null,
      unitLabel: null,
      statementDescriptor: null,
    });
    em.store.products.put(product);
    for (const [i, s] of p.prices.entries()) {
      const price = buildPrice({
        id: s.id,
        created,
        product: product.id,
        currency: s.currency,
        unitAmount: s.unit_amount,
        active: true,
        nickname: s.nickname,
        lookupKey: s.lookup_key,
        metadata: { ...(s.metadata ?? {}) },
        recurring: { interval: s.interval, intervalCount: 1 },
        taxBehavior: 'unspecified',
      });
      em.store.prices.put(price);
      if (i === 0) product.default_price = price.id;
    }
  }
  for (const c of catalogue.coupons ?? []) {
    const coupon = buildCoupon({
      id: c.id,
      created,
      percentOff: c.percent_off,
      amountOff: null,
      currency: null,
      duration: c.duration,
      durationInMonths: c.duration_in_months ?? null,
      maxRedemptions: null,
      redeemBy: null,
      name: c.name,
      metadata: {},
      products: null,
    });
    em.store.coupons.put(coupon);
    for (const code of c.promotion_codes) {
      em.store.promotionCodes.put(
        buildPromotionCode({
          created,
          code: code.code,
          coupon: coupon.id,
          active: true,
          customer: null,
          expiresAt: null,
          maxRedemptions: null,
          metadata: {},
          firstTimeTransaction: false,
          minimumAmount: null,
          minimumAmountCurrency: null,
        }),
      );
    }
  }
}
