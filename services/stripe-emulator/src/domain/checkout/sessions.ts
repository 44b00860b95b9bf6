/** Retrieving, listing and expiring Checkout Sessions, and their line items. */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { matchesRange, type Params } from '../core/params.js';
import type { CheckoutRecord } from '../core/store.js';

export function retrieveCheckoutSession(em: Emulator, id: string): Stripe.Checkout.Session {
  return em.store.checkoutSessions.require(id).session;
}

export function listCheckoutSessions(em: Emulator, p: Params): Stripe.ApiList<Stripe.Checkout.Session> {
  const customer = p.string('customer');
  const subscription = p.string('subscription');
  const status = p.string('status');
  const items = em.store.checkoutSessions
    .newestFirst()
    .map((r) => r.session)
    .filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (subscription === undefined || s.subscription === subscription) &&
        (status === undefined || s.status === status) &&
        matchesRange(p, 'created', s.created),
    );
  return paginate(items, p, '/v1/checkout/sessions', 'checkout.session');
}

export function listCheckoutLineItems(em: Emulator, id: string, p: Params): Stripe.ApiList<Stripe.LineItem> {
  const record = em.store.checkoutSessions.require(id);
  return paginate([...record.lineItems], p, `/v1/checkout/sessions/${id}/line_items`, 'line_item');
}

export function lineItemsList(record: CheckoutRecord): Stripe.ApiList<Stripe.LineItem> {
  return {
    object: 'list',
    data: record.lineItems,
    has_more: false,
    url: `/v1/checkout/sessions/${record.session.id}/line_items`,
  };
}

export function expireCheckoutSession(
  em: Emulator,
  id: string,
  req: RequestInfo,
  at = em.timeOfCustomer(em.store.checkoutSessions.require(id).session.customer as string | null),
): Stripe.Checkout.Session {
  const record = em.store.checkoutSessions.require(id);
  const session = record.session;
  if (session.status !== 'open') {
    throw invalidRequest(
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
    );
  }
  session.status = 'expired';
  session.url = null;
  em.emit('checkout.session.expired', session, { request: req, at });
  return session;
}
