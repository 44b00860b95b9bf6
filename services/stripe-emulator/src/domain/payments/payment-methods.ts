import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidRequest, resourceMissing } from '../core/errors.js';
import { paginate } from '../core/list.js';
import type { Params } from '../core/params.js';
import type { PaymentMethodRecord } from '../core/store.js';
import { attachOutcome, findTestCard, MAGIC_PAYMENT_METHODS, type TestCardSpec } from './cards.js';
import { buildPaymentMethod } from './objects.js';

export function createPaymentMethodFromCard(
  em: Emulator,
  card: TestCardSpec,
  details: { expMonth: number; expYear: number; name: string | null; email: string | null; at?: number },
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
  const record = { id: pm.id, pm, behaviour: card.behaviour };
  em.store.paymentMethods.put(record);
  return record;
}

/**
 * Stripe's magic ids (`pm_card_visa`, `pm_card_chargeCustomerFail`, ...) stand
 * for a fresh payment method made from a test card each time they are used.
 */
function fromMagicId(em: Emulator, id: string): PaymentMethodRecord | undefined {
  const number = MAGIC_PAYMENT_METHODS[id];
  const card = number ? findTestCard(number) : undefined;
  if (!card) return undefined;
  const year = new Date(em.now() * 1000).getUTCFullYear();
  return createPaymentMethodFromCard(em, card, { expMonth: 12, expYear: year + 3, name: null, email: null });
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

export function retrievePaymentMethod(em: Emulator, id: string): Stripe.PaymentMethod {
  return resolvePaymentMethod(em, id, 'id').pm;
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
