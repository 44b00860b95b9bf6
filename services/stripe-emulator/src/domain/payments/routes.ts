import { type Operation, op } from '../core/route.js';
import {
  attachPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  retrievePaymentMethod,
} from './payment-methods.js';
import {
  createRefund,
  listCharges,
  listPaymentIntents,
  listRefunds,
  retrieveCharge,
  retrievePaymentIntent,
  retrieveRefund,
} from './payments.js';

export const paymentRoutes: Operation[] = [
  op('GET', '/v1/customers/:id/payment_methods', (c) => listPaymentMethods(c.em, c.params, c.id)),
  op('GET', '/v1/payment_methods', (c) => listPaymentMethods(c.em, c.params)),
  op('GET', '/v1/payment_methods/:id', (c) => retrievePaymentMethod(c.em, c.id)),
  op('POST', '/v1/payment_methods/:id/attach', (c) =>
    attachPaymentMethod(c.em, c.id, c.params.requiredString('customer'), c.req),
  ),
  op('POST', '/v1/payment_methods/:id/detach', (c) => detachPaymentMethod(c.em, c.id, c.req)),

  op('GET', '/v1/payment_intents', (c) => listPaymentIntents(c.em, c.params)),
  op('GET', '/v1/payment_intents/:id', (c) => retrievePaymentIntent(c.em, c.id)),
  op('GET', '/v1/charges', (c) => listCharges(c.em, c.params)),
  op('GET', '/v1/charges/:id', (c) => retrieveCharge(c.em, c.id)),
  op('POST', '/v1/refunds', (c) => createRefund(c.em, c.params, c.req)),
  op('GET', '/v1/refunds', (c) => listRefunds(c.em, c.params)),
  op('GET', '/v1/refunds/:id', (c) => retrieveRefund(c.em, c.id)),
];
