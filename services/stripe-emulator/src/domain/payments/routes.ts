import { type Operation, op } from '../core/route.js';
import {
  cancelPaymentIntent,
  capturePaymentIntent,
  confirmPaymentIntentApi,
  createPaymentIntentApi,
  updatePaymentIntent,
} from './payment-intents.js';
import {
  attachPaymentMethod,
  createPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  retrieveCustomerPaymentMethod,
  retrievePaymentMethod,
  updatePaymentMethod,
} from './payment-methods.js';
import {
  createRefund,
  listCharges,
  listPaymentIntents,
  listRefunds,
  retrieveCharge,
  retrievePaymentIntent,
  retrieveRefund,
  searchCharges,
  searchPaymentIntents,
  updateRefund,
} from './payments.js';
import {
  cancelSetupIntent,
  confirmSetupIntent,
  createSetupIntent,
  listSetupIntents,
  retrieveSetupIntent,
} from './setup-intents.js';

export const paymentRoutes: Operation[] = [
  op('GET', '/v1/customers/:id/payment_methods', (c) => listPaymentMethods(c.em, c.params, c.id)),
  op('GET', '/v1/customers/:id/payment_methods/:pm', (c) =>
    retrieveCustomerPaymentMethod(c.em, c.id, c.path.pm ?? ''),
  ),
  op('POST', '/v1/payment_methods', (c) => createPaymentMethod(c.em, c.params)),
  op('GET', '/v1/payment_methods', (c) => listPaymentMethods(c.em, c.params)),
  op('GET', '/v1/payment_methods/:id', (c) => retrievePaymentMethod(c.em, c.id)),
  op('POST', '/v1/payment_methods/:id', (c) => updatePaymentMethod(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/payment_methods/:id/attach', (c) =>
    attachPaymentMethod(c.em, c.id, c.params.requiredString('customer'), c.req),
  ),
  op('POST', '/v1/payment_methods/:id/detach', (c) => detachPaymentMethod(c.em, c.id, c.req)),

  op('POST', '/v1/payment_intents', (c) => createPaymentIntentApi(c.em, c.params, c.req)),
  op('GET', '/v1/payment_intents', (c) => listPaymentIntents(c.em, c.params)),
  op('GET', '/v1/payment_intents/search', (c) => searchPaymentIntents(c.em, c.params)),
  op('GET', '/v1/payment_intents/:id', (c) => retrievePaymentIntent(c.em, c.id)),
  op('POST', '/v1/payment_intents/:id', (c) => updatePaymentIntent(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/payment_intents/:id/confirm', (c) => confirmPaymentIntentApi(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/payment_intents/:id/capture', (c) => capturePaymentIntent(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/payment_intents/:id/cancel', (c) => cancelPaymentIntent(c.em, c.id, c.params, c.req)),

  op('POST', '/v1/setup_intents', (c) => createSetupIntent(c.em, c.params, c.req)),
  op('GET', '/v1/setup_intents', (c) => listSetupIntents(c.em, c.params)),
  op('GET', '/v1/setup_intents/:id', (c) => retrieveSetupIntent(c.em, c.id)),
  op('POST', '/v1/setup_intents/:id/confirm', (c) => confirmSetupIntent(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/setup_intents/:id/cancel', (c) => cancelSetupIntent(c.em, c.id, c.params, c.req)),

  op('GET', '/v1/charges', (c) => listCharges(c.em, c.params)),
  op('GET', '/v1/charges/search', (c) => searchCharges(c.em, c.params)),
  op('GET', '/v1/charges/:id', (c) => retrieveCharge(c.em, c.id)),
  op('POST', '/v1/refunds', (c) => createRefund(c.em, c.params, c.req)),
  op('GET', '/v1/refunds', (c) => listRefunds(c.em, c.params)),
  op('GET', '/v1/refunds/:id', (c) => retrieveRefund(c.em, c.id)),
  op('POST', '/v1/refunds/:id', (c) => updateRefund(c.em, c.id, c.params, c.req)),
];
