import { type Operation, op } from '../core/route.js';
import {
  createCoupon,
  createPromotionCode,
  deleteCoupon,
  listCoupons,
  listPromotionCodes,
  updateCoupon,
  updatePromotionCode,
} from './coupons.js';

export const discountRoutes: Operation[] = [
  op('POST', '/v1/coupons', (c) => createCoupon(c.em, c.params, c.req)),
  op('GET', '/v1/coupons', (c) => listCoupons(c.em, c.params)),
  op('GET', '/v1/coupons/:id', (c) => c.em.store.coupons.require(c.id)),
  op('POST', '/v1/coupons/:id', (c) => updateCoupon(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/coupons/:id', (c) => deleteCoupon(c.em, c.id, c.req)),

  op('POST', '/v1/promotion_codes', (c) => createPromotionCode(c.em, c.params, c.req)),
  op('GET', '/v1/promotion_codes', (c) => listPromotionCodes(c.em, c.params)),
  op('GET', '/v1/promotion_codes/:id', (c) => c.em.store.promotionCodes.require(c.id)),
  op('POST', '/v1/promotion_codes/:id', (c) => updatePromotionCode(c.em, c.id, c.params, c.req)),
];
