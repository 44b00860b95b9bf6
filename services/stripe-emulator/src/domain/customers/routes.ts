import { type Operation, op } from '../core/route.js';
import {
  createCustomer,
  deleteCustomer,
  listCustomers,
  retrieveCustomer,
  searchCustomers,
  updateCustomer,
} from './customers.js';

export const customerRoutes: Operation[] = [
  op('POST', '/v1/customers', (c) => createCustomer(c.em, c.params, c.req)),
  op('GET', '/v1/customers', (c) => listCustomers(c.em, c.params)),
  op('GET', '/v1/customers/search', (c) => searchCustomers(c.em, c.params)),
  op('GET', '/v1/customers/:id', (c) => retrieveCustomer(c.em, c.id)),
  op('POST', '/v1/customers/:id', (c) => updateCustomer(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/customers/:id', (c) => deleteCustomer(c.em, c.id, c.req)),
];
