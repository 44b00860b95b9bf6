import type Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { Emulator } from '../core/emulator.js';
import { discountShares, promotionCodeProblem, takeSubscriptionDiscounts } from './apply.js';
import { buildCoupon, buildDiscount, buildPromotionCode } from './objects.js';

const quiet = { warn: () => {}, debug: () => {} };
let em: Emulator;

function coupon(id: string, over: Partial<Parameters<typeof buildCoupon>[0]> = {}): Stripe.Coupon {
  const c = buildCoupon({
    id,
    created: 0,
    percentOff: null,
    amountOff: null,
    currency: null,
    duration: 'forever',
    durationInMonths: null,
    maxRedemptions: null,
    redeemBy: null,
    name: null,
    metadata: {},
    products: null,
    ...over,
  });
  em.store.coupons.put(c);
  return c;
}

beforeEach(() => {
  em = new Emulator(loadConfig({}), quiet);
});

describe('discountShares', () => {
  it('takes a percentage of the eligible lines, rounding the discount', () => {
    coupon('half', { percentOff: 50 });
    expect(
      discountShares(em, [{ coupon: 'half', promotionCode: null }], [{ amount: 999, product: 'p' }]),
    ).toEqual([[500]]);
  });

  it('spreads an amount over the lines in proportion, the rest on the last', () => {
    coupon('three', { amountOff: 300, currency: 'usd' });
    const shares = discountShares(
      em,
      [{ coupon: 'three', promotionCode: null }],
      [
        { amount: 1000, product: 'a' },
        { amount: 500, product: 'b' },
      ],
    );
    expect(shares).toEqual([[200, 100]]);
  });

  it('never takes more than the lines are worth, and only from applies_to products', () => {
    coupon('big', { amountOff: 5000, currency: 'usd', products: ['b'] });
    const shares = discountShares(
      em,
      [{ coupon: 'big', promotionCode: null }],
      [
        { amount: 1000, product: 'a' },
        { amount: 500, product: 'b' },
      ],
    );
    expect(shares).toEqual([[0, 500]]);
  });

  it('applies a second discount to what the first left', () => {
    coupon('ten', { percentOff: 10 });
    coupon('flat', { amountOff: 100, currency: 'usd' });
    const shares = discountShares(
      em,
      [
        { coupon: 'ten', promotionCode: null },
        { coupon: 'flat', promotionCode: null },
      ],
      [{ amount: 1000, product: null }],
    );
    expect(shares).toEqual([[100], [100]]);
  });
});

describe('promotionCodeProblem', () => {
  it('explains why a code cannot be used', () => {
    const c = coupon('c', { percentOff: 10, maxRedemptions: 1 });
    const promo = buildPromotionCode({
      created: 0,
      code: 'X',
      coupon: c.id,
      active: true,
      customer: 'cus_a',
      expiresAt: 100,
      maxRedemptions: null,
      metadata: {},
      firstTimeTransaction: false,
      minimumAmount: null,
      minimumAmountCurrency: null,
    });
    expect(promotionCodeProblem(em, promo, 50, 'cus_a')).toBeNull();
    expect(promotionCodeProblem(em, promo, 50, 'cus_b')).toMatch(/customer/);
    expect(promotionCodeProblem(em, promo, 101, 'cus_a')).toMatch(/expired/);
    c.times_redeemed = 1;
    expect(promotionCodeProblem(em, promo, 50, 'cus_a')).toMatch(/no longer valid/);
  });
});

describe('takeSubscriptionDiscounts', () => {
  it('drops ended discounts and uses up once ones', () => {
    const forever = coupon('f', { percentOff: 5 });
    const once = coupon('o', { percentOff: 5, duration: 'once' });
    const repeating = coupon('r', { percentOff: 5, duration: 'repeating', durationInMonths: 1 });
    const make = (c: Stripe.Coupon, end: number | null) => {
      const d = buildDiscount({
        coupon: c,
        promotionCode: null,
        customer: 'cus',
        subscription: 'sub',
        checkoutSession: null,
        invoice: null,
        start: 0,
        end,
      });
      em.store.discounts.put(d);
      return d.id;
    };
    const ids = [make(forever, null), make(once, null), make(repeating, 1000)];
    const sub = { discounts: ids } as unknown as Stripe.Subscription;
    expect(takeSubscriptionDiscounts(em, sub, 500).map((d) => d.source.coupon)).toEqual(['f', 'o', 'r']);
    expect(sub.discounts).toEqual([ids[0], ids[2]]);
    expect(takeSubscriptionDiscounts(em, sub, 2000).map((d) => d.source.coupon)).toEqual(['f']);
    expect(sub.discounts).toEqual([ids[0]]);
  });
});
