import { type Operation, op } from '../core/route.js';
import { createCheckoutSession } from './create.js';
import { confirmPaymentPage, retrievePaymentPage } from './pay.js';
import {
  expireCheckoutSession,
  listCheckoutLineItems,
  listCheckoutSessions,
  retrieveCheckoutSession,
} from './sessions.js';

export const checkoutRoutes: Operation[] = [
  op('POST', '/v1/checkout/sessions', (c) => createCheckoutSession(c.em, c.params, c.req)),
  op('GET', '/v1/checkout/sessions', (c) => listCheckoutSessions(c.em, c.params)),
  op('GET', '/v1/checkout/sessions/:id', (c) => retrieveCheckoutSession(c.em, c.id)),
  op('GET', '/v1/checkout/sessions/:id/line_items', (c) => listCheckoutLineItems(c.em, c.id, c.params)),
  op('POST', '/v1/checkout/sessions/:id/expire', (c) => expireCheckoutSession(c.em, c.id, c.req)),
  // What Stripe's own Checkout page calls; `stripe trigger checkout.session.completed` uses them.
  op('GET', '/v1/payment_pages/:id', (c) => retrievePaymentPage(c.em, c.id)),
  op('POST', '/v1/payment_pages/:id/confirm', (c) => confirmPaymentPage(c.em, c.id, c.params)),
];
