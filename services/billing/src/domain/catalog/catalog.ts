/**
 * The local mirror of Stripe's product catalogue: products (with the role
 * their metadata grants) and prices. Written from webhooks and syncs, read
 * by GET /products and checkout.
 *
 * Only *sellable* products can be bought: metadata `tollgate_sellable=true`
 * at Stripe, or listed in SELLABLE_PRODUCTS. A Stripe account also holds
 * prices nobody should be able to check out (a $0 staff plan, a legacy
 * price); before this rule any active recurring price was for sale by id.
 */
import type Stripe from 'stripe';
import type { Db, Prisma, Sql, Tx } from '../../db/prisma.js';
import type { Price, Product } from '../../generated/prisma/client.js';
import { idOf, isResourceMissing } from '../../stripe/client.js';
import { limitOf } from '../entitlements/features.js';

type Client = Db | Tx;
const json = (value: unknown) => value as Prisma.InputJsonValue;

/** The Stripe product metadata key that puts a product on sale. */
export const SELLABLE_METADATA_KEY = 'tollgate_sellable';

export function productRow(product: Stripe.Product) {
  return {
    name: product.name,
    description: product.description ?? null,
    active: product.active,
    role: product.metadata?.role?.trim() || null,
    sellable: product.metadata?.[SELLABLE_METADATA_KEY]?.trim().toLowerCase() === 'true',
    raw: json(product),
  };
}

export function priceRow(price: Stripe.Price) {
  return {
    productId: idOf(price.product) as string,
    active: price.active,
    currency: price.currency,
    unitAmount: price.unit_amount ?? null,
    interval: price.recurring?.interval ?? null,
    intervalCount: price.recurring?.interval_count ?? null,
    lookupKey: price.lookup_key ?? null,
    nickname: price.nickname ?? null,
    raw: json(price),
  };
}

export async function upsertProduct(db: Client, product: Stripe.Product) {
  const row = productRow(product);
  return db.product.upsert({ where: { id: product.id }, create: { id: product.id, ...row }, update: row });
}

export async function upsertPrice(db: Client, price: Stripe.Price) {
  const row = priceRow(price);
  return db.price.upsert({ where: { id: price.id }, create: { id: price.id, ...row }, update: row });
}

/** A product's Entitlements features as the mirror keeps them (limit from feature metadata `limit`). */
export function productFeatureRows(productId: string, features: readonly Stripe.ProductFeature[]) {
  return features.map((pf) => ({
    productId,
    featureId: pf.entitlement_feature.id,
    lookupKey: pf.entitlement_feature.lookup_key,
    limit: limitOf(pf.entitlement_feature.metadata),
    active: pf.entitlement_feature.active,
  }));
}

/** Every feature attached to a product at Stripe (a product has few; auto-paginated). */
export async function fetchProductFeatures(
  stripe: Stripe,
  productId: string,
): Promise<Stripe.ProductFeature[]> {
  const out: Stripe.ProductFeature[] = [];
  for await (const pf of stripe.products.listFeatures(productId, { limit: 100 })) out.push(pf);
  return out;
}

/** Replaces the mirror's features of a product with Stripe's list (read before the transaction). */
export async function replaceProductFeatures(
  db: Client,
  productId: string,
  features: readonly Stripe.ProductFeature[],
  now = new Date(),
) {
  await db.productFeature.deleteMany({ where: { productId } });
  if (features.length > 0)
    await db.productFeature.createMany({
      data: productFeatureRows(productId, features),
      skipDuplicates: true,
    });
  await db.product.updateMany({ where: { id: productId }, data: { featuresSyncedAt: now } });
}

/** A price row and its product's columns, as `findPriceForSale` reads them. */
type PriceForSaleRow = Price & {
  productName: string;
  productDescription: string | null;
  productActive: boolean;
  productRole: string | null;
  productSellable: boolean;
  productFeaturesSyncedAt: Date | null;
  productRaw: Product['raw'];
  productCreatedAt: Date;
  productUpdatedAt: Date;
};

export interface CatalogDeps {
  db: Db;
  /** Plain SQL over the same pool: checkout looks a price up on every call (ADR 0015). */
  sql: Sql;
  stripe: Stripe;
  /** Sellable whatever their metadata says (SELLABLE_PRODUCTS). */
  sellableProductIds: readonly string[];
}

export function createCatalog({ db, sql, stripe, sellableProductIds }: CatalogDeps) {
  const allowList = [...sellableProductIds];
  const onSale = {
    active: true,
    OR: [{ sellable: true }, { id: { in: allowList } }],
  } satisfies Prisma.ProductWhereInput;

  /** Brings one product to Stripe's state (a deleted product becomes inactive). */
  async function refreshProduct(productId: string) {
    try {
      const product = await stripe.products.retrieve(productId);
      if ((product as unknown as { deleted?: boolean }).deleted) {
        await db.product.updateMany({ where: { id: productId }, data: { active: false } });
        return null;
      }
      const features = await fetchProductFeatures(stripe, productId);
      return db.$transaction(async (tx) => {
        const row = await upsertProduct(tx, product);
        await replaceProductFeatures(tx, productId, features);
        return row;
      });
    } catch (error) {
      if (!isResourceMissing(error)) throw error;
      await db.product.updateMany({ where: { id: productId }, data: { active: false } });
      return null;
    }
  }

  /** Brings a product's features to Stripe's list (a summary event says they may have changed). */
  async function refreshProductFeatures(productId: string) {
    if (!(await db.product.findUnique({ where: { id: productId }, select: { id: true } })))
      return refreshProduct(productId);
    const features = await fetchProductFeatures(stripe, productId);
    await db.$transaction((tx) => replaceProductFeatures(tx, productId, features));
  }

  async function refreshPrice(priceId: string) {
    try {
      const price = await stripe.prices.retrieve(priceId);
      const productId = idOf(price.product) as string;
      if (!(await db.product.findUnique({ where: { id: productId }, select: { id: true } })))
        await refreshProduct(productId);
      return upsertPrice(db, price);
    } catch (error) {
      if (!isResourceMissing(error)) throw error;
      await db.price.updateMany({ where: { id: priceId }, data: { active: false } });
      return null;
    }
  }

  /**
   * Pulls every product and price (a catalogue is small). Used when the
   * mirror is empty at start: Stripe sends no events for objects that
   * already existed when the endpoint was registered.
   */
  async function syncAll() {
    let products = 0;
    let prices = 0;
    for await (const product of stripe.products.list({ limit: 100 })) {
      const features = await fetchProductFeatures(stripe, product.id);
      await db.$transaction(async (tx) => {
        await upsertProduct(tx, product);
        await replaceProductFeatures(tx, product.id, features);
      });
      products++;
    }
    for await (const price of stripe.prices.list({ limit: 100 })) {
      await upsertPrice(db, price);
      prices++;
    }
    return { products, prices };
  }

  async function isEmpty() {
    return (await db.product.count()) === 0;
  }

  /** Sellable active products with their active prices, cheapest first. */
  async function listSellable() {
    return db.product.findMany({
      where: onSale,
      orderBy: { name: 'asc' },
      include: {
        prices: { where: { active: true }, orderBy: { unitAmount: 'asc' } },
        features: { where: { active: true }, orderBy: { lookupKey: 'asc' } },
      },
    });
  }

  async function findPrice(priceId: string) {
    return db.price.findUnique({ where: { id: priceId }, include: { product: true } });
  }

  /** A price that may be bought: active, of an active sellable product; else null (callers answer 404). */
  /**
   * The price with its product, when both are active and the product is on sale. Plain SQL:
   * Prisma's form of this query (a relation filter) took Postgres 4 ms to plan, every checkout.
   */
  async function findPriceForSale(priceId: string): Promise<(Price & { product: Product }) | null> {
    const { rows } = await sql.query<PriceForSaleRow>({
      name: 'price-for-sale',
      text: `SELECT pr.id, pr.product_id AS "productId", pr.active, pr.currency, pr.unit_amount AS "unitAmount",
                    pr.interval, pr.interval_count AS "intervalCount", pr.lookup_key AS "lookupKey", pr.nickname,
                    pr.raw, pr.created_at AS "createdAt", pr.updated_at AS "updatedAt",
                    p.name AS "productName", p.description AS "productDescription", p.active AS "productActive",
                    p.role AS "productRole", p.sellable AS "productSellable",
                    p.features_synced_at AS "productFeaturesSyncedAt", p.raw AS "productRaw",
                    p.created_at AS "productCreatedAt", p.updated_at AS "productUpdatedAt"
               FROM prices pr JOIN products p ON p.id = pr.product_id
              WHERE pr.id = $1 AND pr.active AND p.active AND (p.sellable OR p.id = ANY($2::text[]))`,
      values: [priceId, allowList],
    });
    const row = rows[0];
    if (!row) return null;
    const {
      productName,
      productDescription,
      productActive,
      productRole,
      productSellable,
      productFeaturesSyncedAt,
      productRaw,
      productCreatedAt,
      productUpdatedAt,
      ...price
    } = row;
    return {
      ...price,
      product: {
        id: price.productId,
        name: productName,
        description: productDescription,
        active: productActive,
        role: productRole,
        sellable: productSellable,
        featuresSyncedAt: productFeaturesSyncedAt,
        raw: productRaw,
        createdAt: productCreatedAt,
        updatedAt: productUpdatedAt,
      },
    };
  }

  return {
    refreshProduct,
    refreshProductFeatures,
    refreshPrice,
    syncAll,
    isEmpty,
    listSellable,
    findPrice,
    findPriceForSale,
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
