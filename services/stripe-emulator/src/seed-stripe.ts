/**
 * Creates the emulator's catalogue in a real Stripe account (test mode), so
 * both worlds have the same products (same ids) and prices (same lookup keys).
 * Idempotent: run it as often as you like; it only creates or fixes what differs.
 */
import type Stripe from 'stripe';
import type { Catalogue } from './domain/products-prices/seed.js';

export interface SeedReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

function isMissing(err: unknown): boolean {
  return (err as { code?: string }).code === 'resource_missing';
}

export async function seedStripe(stripe: Stripe, catalogue: Catalogue): Promise<SeedReport> {
  const report: SeedReport = { created: [], updated: [], unchanged: [] };
  for (const p of catalogue.products) {
    let product: Stripe.Product | null = null;
    try {
      product = await stripe.products.retrieve(p.id);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (!product) {
      product = await stripe.products.create(
        { id: p.id, name: p.name, description: p.description, metadata: p.metadata },
        { idempotencyKey: `tollgate-seed-product-${p.id}` },
      );
      report.created.push(product.id);
    } else {
      const drift =
        product.name !== p.name ||
        product.description !== p.description ||
        !product.active ||
        Object.entries(p.metadata).some(([k, v]) => product?.metadata[k] !== v);
      if (drift) {
        product = await stripe.products.update(p.id, {
          name: p.name,
          description: p.description,
          metadata: p.metadata,
          active: true,
        });
        report.updated.push(product.id);
      } else {
        report.unchanged.push(product.id);
      }
    }

    let defaultPrice: string | null = null;
    for (const s of p.prices) {
      const existing = (await stripe.prices.list({ lookup_keys: [s.lookup_key], limit: 1 })).data[0];
      const matches =
        existing &&
        existing.product === p.id &&
        existing.unit_amount === s.unit_amount &&
        existing.currency === s.currency &&
        existing.recurring?.interval === s.interval &&
        existing.recurring?.interval_count === 1;
      let priceId: string;
      const metadata = s.metadata ?? {};
      const metadataDrift = existing
        ? Object.entries(metadata).some(([k, v]) => existing.metadata[k] !== v)
        : false;
      if (existing && matches) {
        if (!existing.active || metadataDrift) {
          await stripe.prices.update(existing.id, { active: true, metadata });
          report.updated.push(existing.id);
        } else {
          report.unchanged.push(existing.id);
        }
        priceId = existing.id;
      } else {
        // Prices are immutable: make a new one, move the lookup key to it, archive the old one.
        const price = await stripe.prices.create({
          product: p.id,
          currency: s.currency,
          unit_amount: s.unit_amount,
          recurring: { interval: s.interval },
          lookup_key: s.lookup_key,
          nickname: s.nickname,
          metadata,
          transfer_lookup_key: true,
        });
        if (existing) await stripe.prices.update(existing.id, { active: false });
        report.created.push(price.id);
        priceId = price.id;
      }
      defaultPrice ??= priceId;
    }
    if (defaultPrice && product.default_price !== defaultPrice) {
      await stripe.products.update(p.id, { default_price: defaultPrice });
    }
  }
  for (const c of catalogue.coupons ?? []) await seedCoupon(stripe, c, report);
  return report;
}

type CouponSeed = NonNullable<Catalogue['coupons']>[number];

/** A coupon (by id; coupons are immutable, so one that differs is reported, not changed) and its codes. */
async function seedCoupon(stripe: Stripe, c: CouponSeed, report: SeedReport): Promise<void> {
  let coupon: Stripe.Coupon | null = null;
  try {
    coupon = await stripe.coupons.retrieve(c.id);
    report.unchanged.push(coupon.id);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  if (!coupon) {
    coupon = await stripe.coupons.create({
      id: c.id,
      name: c.name,
      percent_off: c.percent_off,
      duration: c.duration,
      ...(c.duration_in_months ? { duration_in_months: c.duration_in_months } : {}),
    });
    report.created.push(coupon.id);
  }
  for (const { code } of c.promotion_codes) {
    const existing = (await stripe.promotionCodes.list({ code, active: true, limit: 1 })).data[0];
    if (existing) {
      report.unchanged.push(existing.id);
      continue;
    }
    const promo = await stripe.promotionCodes.create({
      promotion: { type: 'coupon', coupon: coupon.id },
      code,
    });
    report.created.push(promo.id);
  }
}
