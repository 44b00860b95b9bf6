/**
 * Entitlements: features, the features a product grants, and each customer's
 * active entitlements: the features of the products of their subscriptions
 * that are active, trialing or past_due. Whenever a customer's set changes
 * (a subscription starts, changes plan or ends; a product gains or loses a
 * feature) Stripe sends `entitlements.active_entitlement_summary.updated`
 * with the full new list and the old one in `previous_attributes`.
 */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest, resourceMissing } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { paginate } from '../core/list.js';
import { Params } from '../core/params.js';

const ENTITLED: Stripe.Subscription.Status[] = ['active', 'trialing', 'past_due'];
export const SUMMARY_EVENT = 'entitlements.active_entitlement_summary.updated';

export function createFeature(em: Emulator, p: Params): Stripe.Entitlements.Feature {
  const params = new Params(p.raw, ['name', 'lookup_key', 'metadata']);
  const lookupKey = params.requiredString('lookup_key');
  if (em.store.features.newestFirst().some((f) => f.lookup_key === lookupKey)) {
    throw invalidRequest(
      `A feature with lookup_key ${lookupKey} already exists.`,
      'lookup_key',
      'resource_already_exists',
    );
  }
  const feature: Stripe.Entitlements.Feature = {
    id: newId('feat_test'),
    object: 'entitlements.feature',
    active: true,
    livemode: false,
    lookup_key: lookupKey,
    metadata: params.metadata() ?? {},
    name: params.requiredString('name'),
  };
  em.store.features.put(feature);
  em.changed();
  return feature;
}

export function updateFeature(em: Emulator, id: string, p: Params): Stripe.Entitlements.Feature {
  const params = new Params(p.raw, ['name', 'active', 'metadata']);
  const feature = em.store.features.require(id);
  if (params.has('name')) feature.name = params.requiredString('name');
  if (params.has('active')) feature.active = params.boolean('active') ?? feature.active;
  const metadata = params.metadata(feature.metadata);
  if (metadata) feature.metadata = metadata;
  em.changed();
  return feature;
}

export function listFeatures(em: Emulator, p: Params): Stripe.ApiList<Stripe.Entitlements.Feature> {
  const lookupKey = p.string('lookup_key');
  const archived = p.boolean('archived');
  return paginate(
    em.store.features.newestFirst(),
    p,
    '/v1/entitlements/features',
    'feature',
    (f) =>
      (lookupKey === undefined || f.lookup_key === lookupKey) &&
      (archived === undefined || f.active === !archived),
  );
}

export function attachProductFeature(
  em: Emulator,
  productId: string,
  p: Params,
  req: RequestInfo,
): Stripe.ProductFeature {
  const params = new Params(p.raw, ['entitlement_feature']);
  em.store.products.require(productId, 'product');
  const feature = em.store.features.require(
    params.requiredString('entitlement_feature'),
    'entitlement_feature',
  );
  const existing = em.store.productFeatures
    .newestFirst()
    .find((pf) => productOfFeature(pf.id) === productId && pf.entitlement_feature.id === feature.id);
  if (existing) return existing;
  const pf: Stripe.ProductFeature = {
    id: `${newId('prodft')}_${productId}`,
    object: 'product_feature',
    entitlement_feature: feature,
    livemode: false,
  };
  em.store.productFeatures.put(pf);
  refreshAll(em, req);
  return pf;
}

/** A product feature's id carries its product (`prodft_<random>_<product id>`): the object itself does not name it. */
function productOfFeature(id: string): string {
  return id.split('_').slice(2).join('_');
}

function featuresOfProduct(em: Emulator, productId: string): Stripe.ProductFeature[] {
  return em.store.productFeatures.newestFirst().filter((pf) => productOfFeature(pf.id) === productId);
}

export function listProductFeatures(
  em: Emulator,
  productId: string,
  p: Params,
): Stripe.ApiList<Stripe.ProductFeature> {
  em.store.products.require(productId, 'product');
  return paginate(
    featuresOfProduct(em, productId),
    p,
    `/v1/products/${productId}/features`,
    'product_feature',
  );
}

export function retrieveProductFeature(em: Emulator, productId: string, id: string): Stripe.ProductFeature {
  const pf = em.store.productFeatures.get(id);
  if (!pf || productOfFeature(id) !== productId) throw resourceMissing('product_feature', id);
  return pf;
}

export function detachProductFeature(
  em: Emulator,
  productId: string,
  id: string,
  req: RequestInfo,
): Stripe.DeletedProductFeature {
  retrieveProductFeature(em, productId, id);
  em.store.productFeatures.delete(id);
  refreshAll(em, req);
  return { id, object: 'product_feature', deleted: true };
}

/** Stable ids: the same customer and feature always give the same active entitlement id. */
function entitlementId(customer: string, feature: string): string {
  return `ent_test_${createHash('sha256').update(`${customer}:${feature}`).digest('hex').slice(0, 24)}`;
}

export function activeEntitlements(em: Emulator, customer: string): Stripe.Entitlements.ActiveEntitlement[] {
  const products = new Set<string>();
  for (const sub of em.store.subscriptions.items.values()) {
    if (sub.customer !== customer || !ENTITLED.includes(sub.status)) continue;
    for (const item of sub.items.data) products.add(String(item.price.product));
  }
  const features = new Map<string, Stripe.Entitlements.Feature>();
  for (const product of products) {
    for (const pf of featuresOfProduct(em, product)) {
      if (pf.entitlement_feature.active) features.set(pf.entitlement_feature.id, pf.entitlement_feature);
    }
  }
  return [...features.values()]
    .sort((a, b) => a.lookup_key.localeCompare(b.lookup_key))
    .map((f) => ({
      id: entitlementId(customer, f.id),
      object: 'entitlements.active_entitlement',
      feature: f.id,
      livemode: false,
      lookup_key: f.lookup_key,
    }));
}

export function listActiveEntitlements(
  em: Emulator,
  p: Params,
): Stripe.ApiList<Stripe.Entitlements.ActiveEntitlement> {
  const customer = p.requiredString('customer');
  em.store.customers.require(customer, 'customer');
  return paginate(
    activeEntitlements(em, customer),
    p,
    '/v1/entitlements/active_entitlements',
    'active_entitlement',
  );
}

export function retrieveActiveEntitlement(em: Emulator, id: string): Stripe.Entitlements.ActiveEntitlement {
  for (const customer of em.store.customers.items.keys()) {
    const found = activeEntitlements(em, customer).find((e) => e.id === id);
    if (found) return found;
  }
  throw resourceMissing('active_entitlement', id);
}

/** The summary carries each entitlement with its feature expanded, as Stripe's fixture of it does. */
function summary(
  em: Emulator,
  customer: string,
  entitlements: Stripe.Entitlements.ActiveEntitlement[],
): Stripe.Entitlements.ActiveEntitlementSummary {
  const withFeatures = entitlements.map((e) => ({
    ...e,
    feature:
      em.store.features.get(String(typeof e.feature === 'string' ? e.feature : e.feature.id)) ?? e.feature,
  }));
  return {
    object: 'entitlements.active_entitlement_summary',
    customer,
    entitlements: {
      object: 'list',
      data: withFeatures,
      has_more: false,
      url: `/v1/customer/${customer}/entitlements`,
    },
    livemode: false,
  };
}

/**
 * Sends the summary event when the customer's entitlements differ from what
 * was last sent. Without any product features and nothing sent before there
 * is nothing to compare, which keeps renewals cheap for accounts that do not
 * use entitlements.
 */
export function refreshCustomer(em: Emulator, customer: string, req: RequestInfo, at?: number): void {
  const sent = em.store.entitlementSnapshots.get(customer) ?? [];
  if (em.store.productFeatures.items.size === 0 && sent.length === 0) return;
  const now = activeEntitlements(em, customer);
  const ids = now.map((e) => e.id);
  if (ids.join(',') === sent.join(',')) return;
  const before = sent.map((id) => {
    const feature = em.store.features.get(featureOfEntitlement(em, customer, id) ?? '');
    return {
      id,
      object: 'entitlements.active_entitlement' as const,
      feature: feature?.id ?? '',
      livemode: false,
      lookup_key: feature?.lookup_key ?? '',
    };
  });
  em.store.entitlementSnapshots.set(customer, ids);
  em.emit(SUMMARY_EVENT, summary(em, customer, now), {
    previous: summary(em, customer, before),
    request: req,
    at: at ?? em.timeOfCustomer(customer),
  });
}

/** The feature behind an entitlement id (ids are derived from customer and feature). */
function featureOfEntitlement(em: Emulator, customer: string, id: string): string | undefined {
  for (const feature of em.store.features.items.keys()) {
    if (entitlementId(customer, feature) === id) return feature;
  }
  return undefined;
}

function refreshAll(em: Emulator, req: RequestInfo): void {
  const customers = new Set<string>();
  for (const sub of em.store.subscriptions.items.values()) customers.add(String(sub.customer));
  for (const customer of customers) refreshCustomer(em, customer, req);
}

/** Follows subscription events: each one may change its customer's entitlements. */
export function watchEntitlements(em: Emulator): void {
  em.onEvent((event) => {
    if (!event.type.startsWith('customer.subscription.')) return;
    const sub = event.data.object as Stripe.Subscription;
    refreshCustomer(
      em,
      String(sub.customer),
      { id: event.request?.id ?? null, idempotencyKey: event.request?.idempotency_key ?? null },
      event.created,
    );
  });
}
