/**
 * Add-ons: products marked `tollgate_addon=true` in their Stripe metadata. A
 * user holds at most one live subscription to a plan (the base) and one to
 * each add-on; the "already subscribed" rule is per base plan, per add-on.
 */
import type { Db } from '../../db/prisma.js';

/** The mirrored products that are add-ons (read from the raw Stripe metadata). */
export async function addonProductIds(db: Pick<Db, 'product'>): Promise<string[]> {
  const rows = await db.product.findMany({
    where: { raw: { path: ['metadata', 'tollgate_addon'], equals: 'true' } },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

/** A Prisma filter on subscriptions: the base plan's (no add-on product). */
export function baseOnly(addonIds: string[]) {
  return addonIds.length ? { OR: [{ productId: null }, { productId: { notIn: addonIds } }] } : {};
}
