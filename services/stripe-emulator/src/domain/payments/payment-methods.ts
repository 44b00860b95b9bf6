/**
 * PaymentMethods: made from a test card (hosted page, `POST /v1/payment_methods`
 * with a number or a `tok_*` token) or from a magic id (`pm_card_visa`), then
 * attached to customers. Stripe accepts the magic ids wherever it takes a
 * payment method; each use makes a fresh `pm_...`, and within one customer a
 * magic id names the last one made from it (so `payment_method=pm_card_visa&
 * invoice_settings[default_payment_method]=pm_card_visa` sets the one just attached).
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidParam, invalidRequest, missingParam, resourceMissing } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { Params } from '../core/params.js';
import type { PaymentMethodRecord } from '../core/store.js';
import {
  attachOutcome,
  findTestCard,
  luhnValid,
  MAGIC_PAYMENT_METHODS,
  TEST_TOKENS,
  type TestCardSpec,
} from './cards.js';
import { buildPaymentMethod } from './objects.js';

export function createPaymentMethodFromCard(
  em: Emulator,
  card: TestCardSpec,
  details: {
    expMonth: number;
    expYear: number;
    name: string | null;
    email: string | null;
    at?: number;
    magic?: string;
    billing?: Stripe.PaymentMethod.BillingDetails;
    metadata?: Stripe.Metadata;
  },
): PaymentMethodRecord {
  const pm = buildPaymentMethod({
    created: details.at ?? em.now(),
    card,
    expMonth: details.expMonth,
    expYear: details.expYear,
    name: details.name,
    email: details.email,
    customer: null,
  });
  if (details.billing) pm.billing_details = details.billing;
  if (details.metadata) pm.metadata = details.metadata;
  const record: PaymentMethodRecord = {
    id: pm.id,
    pm,
    behaviour: card.behaviour,
    ...(details.magic ? { magic: details.magic } : {}),
  };
  em.store.paymentMethods.put(record);
  return record;
}

function defaultExpiry(em: Emulator): { expMonth: number; expYear: number } {
  return { expMonth: 12, expYear: new Date(em.now() * 1000).getUTCFullYear() + 3 };
}

/** A fresh payment method made from a magic id, or undefined when `id` is not one. */
function fromMagicId(em: Emulator, id: string): PaymentMethodRecord | undefined {
  const number = MAGIC_PAYMENT_METHODS[id];
  const card = number ? findTestCard(number) : undefined;
  if (!card) return undefined;
  return createPaymentMethodFromCard(em, card, { ...defaultExpiry(em), name: null, email: null, magic: id });
}

export function isMagicId(id: string): boolean {
  return MAGIC_PAYMENT_METHODS[id] !== undefined;
}

export function resolvePaymentMethod(
  em: Emulator,
  id: string,
  param = 'payment_method',
): PaymentMethodRecord {
  const record = em.store.paymentMethods.get(id) ?? fromMagicId(em, id);
  if (!record) throw resourceMissing('PaymentMethod', id, param);
  return record;
}

/** The customer's payment method named `id`; a magic id names the last one attached from it. */
export function findCustomerPaymentMethod(
  em: Emulator,
  customerId: string,
  id: string,
): PaymentMethodRecord | undefined {
  const record = em.store.paymentMethods.get(id);
  if (record) return record.pm.customer === customerId ? record : undefined;
  if (!isMagicId(id)) return undefined;
  return em.store.paymentMethods.newestFirst().find((r) => r.magic === id && r.pm.customer === customerId);
}

/**
 * A payment method that must belong to the customer (`default_payment_method`
 * and similar). Magic ids are attached on the spot when the customer has none
 * made from them, as Stripe does with test payment methods.
 */
export function requireCustomerPaymentMethod(
  em: Emulator,
  customerId: string,
  id: string,
  param: string,
  req: RequestInfo,
): PaymentMethodRecord {
  const found = findCustomerPaymentMethod(em, customerId, id);
  if (found) return found;
  if (isMagicId(id)) {
    const record = resolvePaymentMethod(em, id, param);
    attachPaymentMethod(em, record.id, customerId, req);
    return record;
  }
  throw invalidRequest(
    `The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`,
    param,
    'resource_missing',
  );
}

export function retrievePaymentMethod(em: Emulator, id: string): Stripe.PaymentMethod {
  return resolvePaymentMethod(em, id, 'id').pm;
}

export function retrieveCustomerPaymentMethod(
  em: Emulator,
  customerId: string,
  id: string,
): Stripe.PaymentMethod {
  em.store.customers.require(customerId, 'customer');
  const record = findCustomerPaymentMethod(em, customerId, id);
  if (!record) throw resourceMissing('PaymentMethod', id, 'payment_method');
  return record.pm;
}

const BILLING = ['address', 'email', 'name', 'phone', 'tax_id'];
const ADDRESS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'];

function billingDetails(
  params: Params | undefined,
  current: Stripe.PaymentMethod.BillingDetails,
): Stripe.PaymentMethod.BillingDetails {
  if (!params) return current;
  const next = structuredClone(current);
  if (params.has('email')) next.email = params.nullableString('email') ?? null;
  if (params.has('name')) next.name = params.nullableString('name') ?? null;
  if (params.has('phone')) next.phone = params.nullableString('phone') ?? null;
  const address = params.object('address', ADDRESS);
  if (address) {
    const a = next.address ?? {
      city: null,
      country: null,
      line1: null,
      line2: null,
      postal_code: null,
      state: null,
    };
    for (const key of ADDRESS) {
      if (address.has(key)) a[key as keyof Stripe.Address] = address.nullableString(key) ?? null;
    }
    next.address = a;
  }
  return next;
}

/** `POST /v1/payment_methods`: a card from a test token (`card[token]=tok_visa`) or a test card number. */
export function createPaymentMethod(em: Emulator, p: Params): Stripe.PaymentMethod {
  const params = new Params(p.raw, ['type', 'card', 'billing_details', 'metadata', 'allow_redisplay']);
  const type = params.requiredString('type');
  if (type !== 'card') {
    throw invalidParam('type', `The emulator makes only card payment methods, not '${type}'.`);
  }
  const card = params.object('card', ['token', 'number', 'exp_month', 'exp_year', 'cvc']);
  if (!card) throw missingParam('card');
  const token = card.string('token');
  let spec: TestCardSpec | undefined;
  let expiry = defaultExpiry(em);
  if (token) {
    const number = TEST_TOKENS[token];
    spec = number ? findTestCard(number) : undefined;
    if (!spec) throw resourceMissing('token', token, 'card[token]');
  } else {
    const number = card.requiredString('number');
    if (!luhnValid(number)) {
      throw cardError('incorrect_number', undefined, 'Your card number is incorrect.', {
        param: 'card[number]',
      });
    }
    spec = findTestCard(number);
    if (!spec) {
      throw cardError(
        'card_declined',
        'test_mode_live_card',
        'Your card was declined. Your request was in test mode, but used a non test (live) card.',
      );
    }
    const expMonth = card.integer('exp_month');
    const expYear = card.integer('exp_year');
    if (expMonth === undefined) throw missingParam('card[exp_month]');
    if (expYear === undefined) throw missingParam('card[exp_year]');
    expiry = { expMonth, expYear: expYear < 100 ? 2000 + expYear : expYear };
  }
  const empty = buildPaymentMethod({
    created: 0,
    card: spec,
    expMonth: 1,
    expYear: 2000,
    name: null,
    email: null,
    customer: null,
  }).billing_details;
  const record = createPaymentMethodFromCard(em, spec, {
    ...expiry,
    name: null,
    email: null,
    billing: billingDetails(params.object('billing_details', BILLING), empty),
    metadata: params.metadata() ?? {},
  });
  return record.pm;
}

/** `POST /v1/payment_methods/:id`: metadata, billing details, card expiry. */
export function updatePaymentMethod(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.PaymentMethod {
  const params = new Params(p.raw, ['billing_details', 'metadata', 'card', 'allow_redisplay']);
  const record = resolvePaymentMethod(em, id, 'id');
  const pm = record.pm;
  const before = structuredClone(pm);
  const metadata = params.metadata(pm.metadata ?? {});
  if (metadata) pm.metadata = metadata;
  pm.billing_details = billingDetails(params.object('billing_details', BILLING), pm.billing_details);
  const card = params.object('card', ['exp_month', 'exp_year', 'networks']);
  if (card && pm.card) {
    pm.card.exp_month = card.integer('exp_month') ?? pm.card.exp_month;
    pm.card.exp_year = card.integer('exp_year') ?? pm.card.exp_year;
  }
  if (JSON.stringify(before) !== JSON.stringify(pm)) {
    const customer = typeof pm.customer === 'string' ? pm.customer : null;
    em.emit('payment_method.updated', pm, {
      previous: before,
      request: req,
      at: em.timeOfCustomer(customer),
    });
  }
  return pm;
}

export function attachPaymentMethod(
  em: Emulator,
  id: string,
  customerId: string,
  req: RequestInfo,
  at?: number,
): Stripe.PaymentMethod {
  const customer = em.store.customers.require(customerId, 'customer');
  const record = resolvePaymentMethod(em, id);
  if (record.pm.customer && record.pm.customer !== customerId) {
    throw invalidRequest(
      'The payment method you provided has already been attached to a customer.',
      'payment_method',
      'payment_method_unexpected_state',
    );
  }
  const decline = attachOutcome(record.behaviour);
  if (decline) {
    throw cardError(decline.code, decline.declineCode, decline.message, { param: '' });
  }
  if (record.pm.customer === customerId) return record.pm;
  record.pm.customer = customerId;
  em.emit('payment_method.attached', record.pm, { request: req, at: at ?? em.timeOf(customer.test_clock) });
  return record.pm;
}

export function detachPaymentMethod(em: Emulator, id: string, req: RequestInfo): Stripe.PaymentMethod {
  const record = resolvePaymentMethod(em, id, 'id');
  if (!record.pm.customer) {
    throw invalidRequest(
      'The payment method you provided is not attached to a customer so detachment is impossible.',
      undefined,
      'payment_method_unexpected_state',
    );
  }
  const before = structuredClone(record.pm);
  record.pm.customer = null;
  em.emit('payment_method.detached', record.pm, { request: req, previous: before });
  return record.pm;
}

export function listPaymentMethods(
  em: Emulator,
  p: Params,
  customerId?: string,
): Stripe.ApiList<Stripe.PaymentMethod> {
  const customer = customerId ?? p.string('customer');
  if (customer) em.store.customers.require(customer, 'customer');
  const type = p.string('type');
  const items = [...em.store.paymentMethods.newestFirst()]
    .map((r) => r.pm)
    .filter((pm) => (customer === undefined ? pm.customer !== null : pm.customer === customer))
    .filter((pm) => type === undefined || pm.type === type);
  const url = customerId ? `/v1/customers/${customerId}/payment_methods` : '/v1/payment_methods';
  return paginate(items, p, url, 'PaymentMethod');
}
