import { type Operation, op } from '../core/route.js';
import {
  attachProductFeature,
  createFeature,
  detachProductFeature,
  listActiveEntitlements,
  listFeatures,
  listProductFeatures,
  retrieveActiveEntitlement,
  retrieveProductFeature,
  updateFeature,
} from './entitlements.js';

export const entitlementRoutes: Operation[] = [
  op('POST', '/v1/entitlements/features', (c) => createFeature(c.em, c.params)),
  op('GET', '/v1/entitlements/features', (c) => listFeatures(c.em, c.params)),
  op('GET', '/v1/entitlements/features/:id', (c) => c.em.store.features.require(c.id)),
  op('POST', '/v1/entitlements/features/:id', (c) => updateFeature(c.em, c.id, c.params)),
  op('GET', '/v1/entitlements/active_entitlements', (c) => listActiveEntitlements(c.em, c.params)),
  op('GET', '/v1/entitlements/active_entitlements/:id', (c) => retrieveActiveEntitlement(c.em, c.id)),

  op('POST', '/v1/products/:id/features', (c) => attachProductFeature(c.em, c.id, c.params, c.req)),
  op('GET', '/v1/products/:id/features', (c) => listProductFeatures(c.em, c.id, c.params)),
  op('GET', '/v1/products/:id/features/:feature', (c) =>
    retrieveProductFeature(c.em, c.id, c.path.feature ?? ''),
  ),
  op('DELETE', '/v1/products/:id/features/:feature', (c) =>
    detachProductFeature(c.em, c.id, c.path.feature ?? '', c.req),
  ),
];
