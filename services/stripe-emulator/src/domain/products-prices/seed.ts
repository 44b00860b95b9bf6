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
});
const ProductSeed = Type.Object({
  id: Type.String({ pattern: '^prod_' }),
  name: Type.String(),
  description: Type.String(),
  metadata: Type.Record(Type.String(), Type.String()),
  prices: Type.Array(PriceSeed),
});
export const CatalogueSchema = Type.Object({ products: Type.Array(ProductSeed) });
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
        metadata: {},
        recurring: { interval: s.interval, intervalCount: 1 },
        taxBehavior: 'unspecified',
      });
      em.store.prices.put(price);
      if (i === 0) product.default_price = price.id;
    }
  }
}
