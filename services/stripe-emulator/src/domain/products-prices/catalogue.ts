import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest, missingParam, resourceMissing } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { readPath, searchResult } from '../core/search.js';
import { buildPrice, buildProduct, planFromPrice } from './objects.js';

const PRODUCT_CREATE = [
  'id',
  'name',
  'description',
  'active',
  'metadata',
  'url',
  'unit_label',
  'statement_descriptor',
  'default_price_data',
  'images',
  'tax_code',
  'marketing_features',
  'shippable',
];
const PRODUCT_UPDATE = [
  'name',
  'description',
  'active',
  'metadata',
  'url',
  'unit_label',
  'statement_descriptor',
  'default_price',
  'images',
  'tax_code',
  'marketing_features',
  'shippable',
];
const PRICE_CREATE = [
  'product',
  'product_data',
  'currency',
  'unit_amount',
  'unit_amount_decimal',
  'recurring',
  'active',
  'nickname',
  'lookup_key',
  'transfer_lookup_key',
  'metadata',
  'tax_behavior',
  'billing_scheme',
];
const PRICE_UPDATE = ['active', 'nickname', 'lookup_key', 'transfer_lookup_key', 'metadata', 'tax_behavior'];
const INTERVALS = ['day', 'week', 'month', 'year'] as const;

export function createProduct(em: Emulator, p: Params, req: RequestInfo): Stripe.Product {
  const params = new Params(p.raw, PRODUCT_CREATE);
  const id = params.string('id');
  if (id !== undefined && em.store.products.get(id)) {
    throw invalidRequest(`Product already exists.`, 'id', 'resource_already_exists');
  }
  const product = buildProduct({
    ...(id ? { id } : {}),
    created: em.now(),
    name: params.requiredString('name'),
    description: params.nullableString('description') ?? null,
    active: params.boolean('active') ?? true,
    metadata: params.metadata() ?? {},
    url: params.nullableString('url') ?? null,
    unitLabel: params.nullableString('unit_label') ?? null,
    statementDescriptor: params.nullableString('statement_descriptor') ?? null,
  });
  em.store.products.put(product);
  em.emit('product.created', product, { request: req });
  const priceData = params.object('default_price_data', [
    'currency',
    'unit_amount',
    'recurring',
    'tax_behavior',
  ]);
  if (priceData) {
    const price = createPrice(em, new Params({ ...priceData.raw, product: product.id }), req);
    const before = structuredClone(product);
    product.default_price = price.id;
    em.emit('product.updated', product, { request: req, previous: before });
  }
  return product;
}

export function updateProduct(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Product {
  const params = new Params(p.raw, PRODUCT_UPDATE);
  const product = em.store.products.require(id);
  const before = structuredClone(product);
  if (params.has('name')) product.name = params.requiredString('name');
  if (params.has('description')) product.description = params.nullableString('description') ?? null;
  if (params.has('active')) product.active = params.boolean('active') ?? product.active;
  if (params.has('url')) product.url = params.nullableString('url') ?? null;
  if (params.has('unit_label')) product.unit_label = params.nullableString('unit_label') ?? null;
  if (params.has('statement_descriptor')) {
    product.statement_descriptor = params.nullableString('statement_descriptor') ?? null;
  }
  if (params.has('default_price')) {
    const priceId = params.nullableString('default_price') ?? null;
    if (priceId) em.store.prices.require(priceId, 'default_price');
    product.default_price = priceId;
  }
  const metadata = params.metadata(product.metadata);
  if (metadata) product.metadata = metadata;
  if (JSON.stringify(before) !== JSON.stringify(product)) {
    product.updated = em.now();
    em.emit('product.updated', product, { request: req, previous: before });
  }
  return product;
}

export function deleteProduct(em: Emulator, id: string, req: RequestInfo): Stripe.DeletedProduct {
  const product = em.store.products.require(id);
  if ([...em.store.prices.items.values()].some((price) => price.product === id)) {
    throw invalidRequest('This product cannot be deleted because it has one or more user-created prices.');
  }
  em.store.products.delete(id);
  em.emit('product.deleted', product, { request: req });
  return { id, object: 'product', deleted: true };
}

export function listProducts(em: Emulator, p: Params): Stripe.ApiList<Stripe.Product> {
  const active = p.boolean('active');
  const ids = p.stringArray('ids');
  const items = em.store.products
    .newestFirst()
    .filter(
      (x) =>
        (active === undefined || x.active === active) &&
        (ids === undefined || ids.includes(x.id)) &&
        matchesRange(p, 'created', x.created),
    );
  return paginate(items, p, '/v1/products', 'product');
}

export function createPrice(em: Emulator, p: Params, req: RequestInfo): Stripe.Price {
  const params = new Params(p.raw, PRICE_CREATE);
  let productId = params.string('product');
  const productData = params.object('product_data', [
    'name',
    'metadata',
    'active',
    'statement_descriptor',
    'unit_label',
  ]);
  if (!productId && !productData) throw missingParam('product');
  if (productId) em.store.products.require(productId, 'product');
  else if (productData) productId = createProduct(em, productData, req).id;
  const unitAmount =
    params.integer('unit_amount') ?? Number(params.string('unit_amount_decimal') ?? Number.NaN);
  if (!Number.isFinite(unitAmount)) throw missingParam('unit_amount');
  if (unitAmount < 0) throw invalidRequest('This value must be greater than or equal to 0.', 'unit_amount');
  const recurringParams = params.object('recurring', [
    'interval',
    'interval_count',
    'usage_type',
    'trial_period_days',
  ]);
  const interval = recurringParams?.oneOf('interval', INTERVALS);
  if (recurringParams && !interval) throw missingParam('recurring[interval]');
  const lookupKey = params.nullableString('lookup_key') ?? null;
  if (lookupKey) claimLookupKey(em, lookupKey, params.boolean('transfer_lookup_key') ?? false, req);
  const price = buildPrice({
    created: em.now(),
    product: productId ?? '',
    currency: params.requiredString('currency').toLowerCase(),
    unitAmount,
    active: params.boolean('active') ?? true,
    nickname: params.nullableString('nickname') ?? null,
    lookupKey,
    metadata: params.metadata() ?? {},
    recurring: interval ? { interval, intervalCount: recurringParams?.integer('interval_count') ?? 1 } : null,
    taxBehavior: params.oneOf('tax_behavior', ['exclusive', 'inclusive', 'unspecified']) ?? 'unspecified',
  });
  em.store.prices.put(price);
  em.emit('price.created', price, { request: req });
  return price;
}

function claimLookupKey(
  em: Emulator,
  key: string,
  transfer: boolean,
  req: RequestInfo,
  except?: string,
): void {
  const holder = [...em.store.prices.items.values()].find((x) => x.lookup_key === key && x.id !== except);
  if (!holder) return;
  if (!transfer) {
    throw invalidRequest(
      `A price (\`${holder.id}\`) already uses that lookup key.`,
      'lookup_key',
      'lookup_key_already_used',
    );
  }
  const before = structuredClone(holder);
  holder.lookup_key = null;
  em.emit('price.updated', holder, { request: req, previous: before });
}

export function updatePrice(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Price {
  const params = new Params(p.raw, PRICE_UPDATE);
  const price = em.store.prices.require(id);
  const before = structuredClone(price);
  if (params.has('active')) price.active = params.boolean('active') ?? price.active;
  if (params.has('nickname')) price.nickname = params.nullableString('nickname') ?? null;
  if (params.has('lookup_key')) {
    const key = params.nullableString('lookup_key') ?? null;
    if (key) claimLookupKey(em, key, params.boolean('transfer_lookup_key') ?? false, req, id);
    price.lookup_key = key;
  }
  const metadata = params.metadata(price.metadata);
  if (metadata) price.metadata = metadata;
  if (JSON.stringify(before) !== JSON.stringify(price)) {
    em.emit('price.updated', price, { request: req, previous: before });
  }
  return price;
}

export function listPrices(em: Emulator, p: Params): Stripe.ApiList<Stripe.Price> {
  const active = p.boolean('active');
  const product = p.string('product');
  const type = p.string('type');
  const currency = p.string('currency');
  const lookupKeys = p.stringArray('lookup_keys');
  const interval = p.object('recurring', ['interval', 'usage_type', 'meter'])?.string('interval');
  const items = em.store.prices
    .newestFirst()
    .filter(
      (x) =>
        (active === undefined || x.active === active) &&
        (product === undefined || x.product === product) &&
        (type === undefined || x.type === type) &&
        (currency === undefined || x.currency === currency) &&
        (lookupKeys === undefined || (x.lookup_key !== null && lookupKeys.includes(x.lookup_key))) &&
        (interval === undefined || x.recurring?.interval === interval) &&
        matchesRange(p, 'created', x.created),
    );
  return paginate(items, p, '/v1/prices', 'price');
}

export function requirePrice(em: Emulator, id: string, param: string): Stripe.Price {
  const price = em.store.prices.require(id, param);
  if (!price.active) {
    throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, param);
  }
  return price;
}

/**
 * `price_data` (Checkout line items, subscription items): a price made for one
 * use. Stripe creates these inactive, so they cannot be reused by id.
 */
export function createInlinePrice(em: Emulator, data: Params): Stripe.Price {
  let productId = data.string('product');
  const productData = data.object('product_data', [
    'name',
    'description',
    'metadata',
    'images',
    'tax_code',
    'unit_label',
  ]);
  if (productId) em.store.products.require(productId, `${data.name('product')}`);
  else if (productData) {
    const product = buildProduct({
      created: em.now(),
      name: productData.requiredString('name'),
      description: productData.nullableString('description') ?? null,
      active: false,
      metadata: productData.metadata() ?? {},
      url: null,
      unitLabel: productData.nullableString('unit_label') ?? null,
      statementDescriptor: null,
    });
    em.store.products.put(product);
    productId = product.id;
  } else throw missingParam(data.name('product'));
  const unitAmount = data.integer('unit_amount') ?? Number(data.string('unit_amount_decimal') ?? Number.NaN);
  if (!Number.isFinite(unitAmount)) throw missingParam(data.name('unit_amount'));
  const recurring = data.object('recurring', ['interval', 'interval_count']);
  const interval = recurring?.oneOf('interval', INTERVALS);
  if (recurring && !interval) throw missingParam(recurring.name('interval'));
  const price = buildPrice({
    created: em.now(),
    product: productId,
    currency: data.requiredString('currency').toLowerCase(),
    unitAmount,
    active: false,
    nickname: null,
    lookupKey: null,
    metadata: {},
    recurring: interval ? { interval, intervalCount: recurring?.integer('interval_count') ?? 1 } : null,
    taxBehavior: data.oneOf('tax_behavior', ['exclusive', 'inclusive', 'unspecified']) ?? 'unspecified',
  });
  em.store.prices.put(price);
  return price;
}

/** Plans, as Stripe still serves them: every recurring price read as the legacy Plan. */
export function retrievePlan(em: Emulator, id: string): Stripe.Plan {
  const price = em.store.prices.get(id);
  if (!price?.recurring) throw resourceMissing('plan', id);
  return planFromPrice(price);
}

export function listPlans(em: Emulator, p: Params): Stripe.ApiList<Stripe.Plan> {
  const active = p.boolean('active');
  const product = p.string('product');
  const plans = em.store.prices
    .newestFirst()
    .filter(
      (x) =>
        x.recurring !== null &&
        (active === undefined || x.active === active) &&
        (product === undefined || x.product === product) &&
        matchesRange(p, 'created', x.created),
    )
    .map(planFromPrice);
  return paginate(plans, p, '/v1/plans', 'plan');
}

export function searchPrices(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.Price> {
  return searchResult(
    em.store.prices.newestFirst(),
    p,
    '/v1/prices/search',
    ['active', 'created', 'currency', 'lookup_key', 'product', 'type'],
    readPath,
  );
}

export function searchProducts(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.Product> {
  return searchResult(
    em.store.products.newestFirst(),
    p,
    '/v1/products/search',
    ['active', 'created', 'description', 'name', 'shippable', 'url'],
    readPath,
  );
}
