/** Every emulated `/v1` endpoint: one line each, from URL to a domain call. */
import {
  createPrice,
  createProduct,
  deleteProduct,
  listPrices,
  listProducts,
  updatePrice,
  updateProduct,
} from '../../domain/catalogue.js';
import {
  createCheckoutSession,
  expireCheckoutSession,
  listCheckoutLineItems,
  listCheckoutSessions,
  retrieveCheckoutSession,
} from '../../domain/checkout.js';
import {
  createCustomer,
  deleteCustomer,
  listCustomers,
  retrieveCustomer,
  searchCustomers,
  updateCustomer,
} from '../../domain/customers.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listEvents,
  listWebhookEndpoints,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from '../../domain/endpoints.js';
import { listInvoiceLines, listInvoices, payInvoice, retrieveInvoice } from '../../domain/invoices.js';
import {
  attachPaymentMethod,
  detachPaymentMethod,
  listPaymentMethods,
  retrievePaymentMethod,
} from '../../domain/payment-methods.js';
import {
  createRefund,
  listCharges,
  listInvoicePayments,
  listPaymentIntents,
  listRefunds,
  retrieveCharge,
  retrieveInvoicePayment,
  retrievePaymentIntent,
  retrieveRefund,
} from '../../domain/payments.js';
import { createPortalSession } from '../../domain/portal.js';
import {
  cancelSubscription,
  createSubscription,
  listSubscriptions,
  retrieveSubscription,
  updateSubscription,
} from '../../domain/subscriptions.js';
import {
  advanceTestClock,
  createTestClock,
  deleteTestClock,
  listTestClocks,
  retrieveTestClock,
} from '../../domain/test-clocks.js';
import type { Route } from './index.js';

export function registerResourceRoutes(route: Route): void {
  route('POST', '/v1/customers', (c) => createCustomer(c.em, c.params, c.req));
  route('GET', '/v1/customers', (c) => listCustomers(c.em, c.params));
  route('GET', '/v1/customers/search', (c) => searchCustomers(c.em, c.params));
  route('GET', '/v1/customers/:id', (c) => retrieveCustomer(c.em, c.id));
  route('POST', '/v1/customers/:id', (c) => updateCustomer(c.em, c.id, c.params, c.req));
  route('DELETE', '/v1/customers/:id', (c) => deleteCustomer(c.em, c.id, c.req));
  route('GET', '/v1/customers/:id/payment_methods', (c) => listPaymentMethods(c.em, c.params, c.id));

  route('POST', '/v1/products', (c) => createProduct(c.em, c.params, c.req));
  route('GET', '/v1/products', (c) => listProducts(c.em, c.params));
  route('GET', '/v1/products/:id', (c) => c.em.store.products.require(c.id));
  route('POST', '/v1/products/:id', (c) => updateProduct(c.em, c.id, c.params, c.req));
  route('DELETE', '/v1/products/:id', (c) => deleteProduct(c.em, c.id, c.req));

  route('POST', '/v1/prices', (c) => createPrice(c.em, c.params, c.req));
  route('GET', '/v1/prices', (c) => listPrices(c.em, c.params));
  route('GET', '/v1/prices/:id', (c) => c.em.store.prices.require(c.id));
  route('POST', '/v1/prices/:id', (c) => updatePrice(c.em, c.id, c.params, c.req));

  route('GET', '/v1/payment_methods', (c) => listPaymentMethods(c.em, c.params));
  route('GET', '/v1/payment_methods/:id', (c) => retrievePaymentMethod(c.em, c.id));
  route('POST', '/v1/payment_methods/:id/attach', (c) =>
    attachPaymentMethod(c.em, c.id, c.params.requiredString('customer'), c.req),
  );
  route('POST', '/v1/payment_methods/:id/detach', (c) => detachPaymentMethod(c.em, c.id, c.req));

  route('POST', '/v1/checkout/sessions', (c) => createCheckoutSession(c.em, c.params, c.req));
  route('GET', '/v1/checkout/sessions', (c) => listCheckoutSessions(c.em, c.params));
  route('GET', '/v1/checkout/sessions/:id', (c) => retrieveCheckoutSession(c.em, c.id));
  route('GET', '/v1/checkout/sessions/:id/line_items', (c) => listCheckoutLineItems(c.em, c.id, c.params));
  route('POST', '/v1/checkout/sessions/:id/expire', (c) => expireCheckoutSession(c.em, c.id, c.req));

  route('POST', '/v1/subscriptions', (c) => createSubscription(c.em, c.params, c.req));
  route('GET', '/v1/subscriptions', (c) => listSubscriptions(c.em, c.params));
  route('GET', '/v1/subscriptions/:id', (c) => retrieveSubscription(c.em, c.id));
  route('POST', '/v1/subscriptions/:id', (c) => updateSubscription(c.em, c.id, c.params, c.req));
  route('DELETE', '/v1/subscriptions/:id', (c) => cancelSubscription(c.em, c.id, c.params, c.req));

  route('GET', '/v1/invoices', (c) => listInvoices(c.em, c.params));
  route('GET', '/v1/invoices/:id', (c) => retrieveInvoice(c.em, c.id));
  route('GET', '/v1/invoices/:id/lines', (c) => listInvoiceLines(c.em, c.id, c.params));
  route('POST', '/v1/invoices/:id/pay', (c) => payInvoice(c.em, c.id, c.params, c.req));

  route('GET', '/v1/invoice_payments', (c) => listInvoicePayments(c.em, c.params));
  route('GET', '/v1/invoice_payments/:id', (c) => retrieveInvoicePayment(c.em, c.id));

  route('GET', '/v1/payment_intents', (c) => listPaymentIntents(c.em, c.params));
  route('GET', '/v1/payment_intents/:id', (c) => retrievePaymentIntent(c.em, c.id));
  route('GET', '/v1/charges', (c) => listCharges(c.em, c.params));
  route('GET', '/v1/charges/:id', (c) => retrieveCharge(c.em, c.id));
  route('POST', '/v1/refunds', (c) => createRefund(c.em, c.params, c.req));
  route('GET', '/v1/refunds', (c) => listRefunds(c.em, c.params));
  route('GET', '/v1/refunds/:id', (c) => retrieveRefund(c.em, c.id));

  route('POST', '/v1/billing_portal/sessions', (c) => createPortalSession(c.em, c.params, c.req));

  route('GET', '/v1/events', (c) => listEvents(c.em, c.params));
  route('GET', '/v1/events/:id', (c) => c.em.store.events.require(c.id));

  route('POST', '/v1/webhook_endpoints', (c) => createWebhookEndpoint(c.em, c.params));
  route('GET', '/v1/webhook_endpoints', (c) => listWebhookEndpoints(c.em, c.params));
  route('GET', '/v1/webhook_endpoints/:id', (c) => retrieveWebhookEndpoint(c.em, c.id));
  route('POST', '/v1/webhook_endpoints/:id', (c) => updateWebhookEndpoint(c.em, c.id, c.params));
  route('DELETE', '/v1/webhook_endpoints/:id', (c) => deleteWebhookEndpoint(c.em, c.id));

  route('POST', '/v1/test_helpers/test_clocks', (c) => createTestClock(c.em, c.params, c.req));
  route('GET', '/v1/test_helpers/test_clocks', (c) => listTestClocks(c.em, c.params));
  route('GET', '/v1/test_helpers/test_clocks/:id', (c) => retrieveTestClock(c.em, c.id));
  route('DELETE', '/v1/test_helpers/test_clocks/:id', (c) => deleteTestClock(c.em, c.id, c.req));
  route('POST', '/v1/test_helpers/test_clocks/:id/advance', (c) =>
    advanceTestClock(c.em, c.id, c.params, c.req),
  );
}
