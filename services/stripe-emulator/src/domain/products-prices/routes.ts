import { type Operation, op } from '../core/route.js';
import {
  createPrice,
  createProduct,
  deleteProduct,
  listPlans,
  listPrices,
  listProducts,
  retrievePlan,
  searchPrices,
  searchProducts,
  updatePrice,
  updateProduct,
} from './catalogue.js';

export const catalogueRoutes: Operation[] = [
  op('POST', '/v1/products', (c) => createProduct(c.em, c.params, c.req)),
  op('GET', '/v1/products', (c) => listProducts(c.em, c.params)),
  op('GET', '/v1/products/search', (c) => searchProducts(c.em, c.params)),
  op('GET', '/v1/products/:id', (c) => c.em.store.products.require(c.id)),
  op('POST', '/v1/products/:id', (c) => updateProduct(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/products/:id', (c) => deleteProduct(c.em, c.id, c.req)),

  op('POST', '/v1/prices', (c) => createPrice(c.em, c.params, c.req)),
  op('GET', '/v1/prices', (c) => listPrices(c.em, c.params)),
  op('GET', '/v1/prices/search', (c) => searchPrices(c.em, c.params)),
  op('GET', '/v1/prices/:id', (c) => c.em.store.prices.require(c.id)),
  op('POST', '/v1/prices/:id', (c) => updatePrice(c.em, c.id, c.params, c.req)),

  op('GET', '/v1/plans', (c) => listPlans(c.em, c.params)),
  op('GET', '/v1/plans/:id', (c) => retrievePlan(c.em, c.id)),
];
