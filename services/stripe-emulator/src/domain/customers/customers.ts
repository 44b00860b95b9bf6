import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidRequest } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { readPath, searchResult } from '../core/search.js';
import { attachOutcome } from '../payments/cards.js';
import {
  attachPaymentMethod,
  requireCustomerPaymentMethod,
  resolvePaymentMethod,
} from '../payments/payment-methods.js';
import { cancelSubscriptionNow } from '../subscriptions/cancel.js';
import { buildCustomer } from './objects.js';

const CREATE = [
  'email',
  'name',
  'description',
  'phone',
  'metadata',
  'payment_method',
  'invoice_settings',
  'test_clock',
  'address',
  'shipping',
  'preferred_locales',
  'tax_exempt',
];
const UPDATE = CREATE.filter((k) => k !== 'payment_method' && k !== 'test_clock');

/**
 * `POST /v1/customers`. A `payment_method` (a test id such as `pm_card_visa`
 * too) is attached and may be named again as `invoice_settings[default_payment_method]`:
 * the customer is born with that default (`customer.created`, then
 * `payment_method.attached`), and a card that fails the attach check fails
 * the whole call with nothing created, as on Stripe.
 */
export function createCustomer(em: Emulator, p: Params, req: RequestInfo): Stripe.Customer {
  const params = new Params(p.raw, CREATE);
  const testClock = params.string('test_clock') || null;
  if (testClock) em.store.testClocks.require(testClock, 'test_clock');
  const invoiceSettings = params.object('invoice_settings', [
    'default_payment_method',
    'custom_fields',
    'footer',
  ]);
  const pmParam = params.string('payment_method') || undefined;
  const defaultParam = invoiceSettings?.nullableString('default_payment_method') ?? undefined;
  const attached = pmParam ? resolvePaymentMethod(em, pmParam) : undefined;
  if (attached) {
    if (attached.pm.customer) {
      throw invalidRequest(
        'The payment method you provided has already been attached to a customer.',
        'payment_method',
        'payment_method_unexpected_state',
      );
    }
    const decline = attachOutcome(attached.behaviour);
    if (decline)
      throw cardError(decline.code, decline.declineCode, decline.message, { param: 'payment_method' });
  }
  if (defaultParam && defaultParam !== pmParam && defaultParam !== attached?.id) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${defaultParam}. The payment method must be attached to the customer.`,
      'invoice_settings[default_payment_method]',
      'resource_missing',
    );
  }
  const customer = buildCustomer({
    created: testClock ? em.timeOf(testClock) : em.now(),
    email: params.nullableString('email') ?? null,
    name: params.nullableString('name') ?? null,
    description: params.nullableString('description') ?? null,
    phone: params.nullableString('phone') ?? null,
    metadata: params.metadata() ?? {},
    testClock,
    defaultPaymentMethod: defaultParam && attached ? attached.id : null,
  });
  em.store.customers.put(customer);
  em.emit('customer.created', customer, { request: req, at: customer.created });
  if (attached) attachPaymentMethod(em, attached.id, customer.id, req);
  return customer;
}

export function retrieveCustomer(em: Emulator, id: string): Stripe.Customer | Stripe.DeletedCustomer {
  if (em.store.deletedCustomers.has(id)) return { id, object: 'customer', deleted: true };
  return em.store.customers.require(id);
}

export function requireLiveCustomer(em: Emulator, id: string, param = 'customer'): Stripe.Customer {
  return em.store.customers.require(id, param);
}

export function updateCustomer(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.Customer {
  const params = new Params(p.raw, UPDATE);
  const customer = em.store.customers.require(id);
  const before = structuredClone(customer);
  if (params.has('email')) customer.email = params.nullableString('email') ?? null;
  if (params.has('name')) customer.name = params.nullableString('name') ?? null;
  if (params.has('description')) customer.description = params.nullableString('description') ?? null;
  if (params.has('phone')) customer.phone = params.nullableString('phone') ?? null;
  const metadata = params.metadata(customer.metadata);
  if (metadata) customer.metadata = metadata;
  const invoiceSettings = params.object('invoice_settings', [
    'default_payment_method',
    'custom_fields',
    'footer',
  ]);
  if (invoiceSettings?.has('default_payment_method')) {
    const pm = invoiceSettings.nullableString('default_payment_method');
    customer.invoice_settings.default_payment_method = pm
      ? requireCustomerPaymentMethod(em, id, pm, 'invoice_settings[default_payment_method]', req).id
      : null;
  }
  if (JSON.stringify(before) !== JSON.stringify(customer)) {
    em.emit('customer.updated', customer, {
      previous: before,
      request: req,
      at: em.timeOf(customer.test_clock),
    });
  }
  return customer;
}

export function listCustomers(em: Emulator, p: Params): Stripe.ApiList<Stripe.Customer> {
  const email = p.string('email');
  const testClock = p.string('test_clock');
  const hasCreated = p.has('created');
  return paginate(
    em.store.customers.newestFirst(),
    p,
    '/v1/customers',
    'customer',
    (c) =>
      (email === undefined || c.email === email) &&
      (testClock === undefined || c.test_clock === testClock) &&
      (!hasCreated || matchesRange(p, 'created', c.created)),
  );
}

export function deleteCustomer(em: Emulator, id: string, req: RequestInfo): Stripe.DeletedCustomer {
  const customer = em.store.customers.require(id);
  for (const sub of em.store.subscriptions.items.values()) {
    if (sub.customer === id && !['canceled', 'incomplete_expired'].includes(sub.status)) {
      cancelSubscriptionNow(em, sub, { ...req, idempotencyKey: null }, 'cancellation_requested');
    }
  }
  for (const record of em.store.paymentMethods.items.values()) {
    if (record.pm.customer === id) record.pm.customer = null;
  }
  em.store.customers.delete(id);
  em.store.deletedCustomers.add(id);
  em.emit('customer.deleted', customer, { request: { ...req, idempotencyKey: null } });
  return { id, object: 'customer', deleted: true };
}

/** `GET /v1/customers/search` in Stripe's query language. */
export function searchCustomers(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.Customer> {
  return searchResult(
    em.store.customers.newestFirst(),
    p,
    '/v1/customers/search',
    ['created', 'email', 'name', 'phone'],
    readPath,
  );
}
