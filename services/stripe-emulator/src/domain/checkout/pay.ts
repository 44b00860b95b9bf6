/**
 * Paying a Checkout Session: the hosted page's form, or `payment_pages/:id/confirm`
 * with a PaymentMethod (what `stripe trigger checkout.session.completed` does).
 * Since API version 2025-03-31 Checkout charges first and creates the
 * subscription after the payment: a declined card leaves the session open with
 * no subscription.
 */
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidParam, invalidRequest, missingParam } from '../core/errors.js';
import { Params } from '../core/params.js';
import type { CheckoutRecord, PaymentMethodRecord } from '../core/store.js';
import { buildCustomer } from '../customers/objects.js';
import { redeem } from '../discounts/apply.js';
import { attachOutcome, chargeOutcome, findTestCard, luhnValid } from '../payments/cards.js';
import {
  attachPaymentMethod,
  createPaymentMethodFromCard,
  resolvePaymentMethod,
} from '../payments/payment-methods.js';
import { confirmPaymentIntent, createPaymentIntent } from '../payments/payments.js';
import { startSubscription } from '../subscriptions/create.js';
import { enterPromotionCode } from './discounts.js';

export interface PaymentForm {
  email: string;
  cardNumber: string;
  cardExpiry: string;
  cardCvc: string;
  billingName: string;
  /** Shown when the session has `allow_promotion_codes`. */
  promotionCode?: string;
}

export type PayOutcome = { ok: true; redirect: string } | { ok: false; message: string };

export function validateCard(
  form: PaymentForm,
  now: number,
): { error: string } | { expMonth: number; expYear: number } {
  if (!luhnValid(form.cardNumber)) return { error: 'Your card number is invalid.' };
  const m = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(form.cardExpiry);
  if (!m) return { error: "Your card's expiration date is incomplete." };
  const expMonth = Number(m[1]);
  const expYear = (m[2] ?? '').length === 2 ? 2000 + Number(m[2]) : Number(m[2]);
  const date = new Date(now * 1000);
  if (expMonth < 1 || expMonth > 12) return { error: "Your card's expiration month is invalid." };
  if (
    expYear < date.getUTCFullYear() ||
    (expYear === date.getUTCFullYear() && expMonth < date.getUTCMonth() + 1)
  ) {
    return { error: "Your card's expiration year is in the past." };
  }
  if (!/^\d{3,4}$/.test(form.cardCvc.trim())) return { error: "Your card's security code is incomplete." };
  return { expMonth, expYear };
}

/** The hosted page's pay button: checks the form, makes the card a PaymentMethod and pays with it. */
export function payCheckoutSession(em: Emulator, id: string, form: PaymentForm): PayOutcome {
  const record = em.store.checkoutSessions.require(id);
  const session = record.session;
  if (session.status !== 'open') return { ok: false, message: `This Checkout Session is ${session.status}.` };
  const existing = session.customer ? em.store.customers.get(String(session.customer)) : undefined;
  const at = existing ? em.timeOf(existing.test_clock) : em.now();
  const email = (existing?.email ?? session.customer_email ?? form.email).trim();
  if (!existing && !EMAIL.test(email)) return failed(em, record, 'Your email address is invalid.');
  const checked = validateCard(form, at);
  if ('error' in checked) return failed(em, record, checked.error);
  const card = findTestCard(form.cardNumber);
  if (!card) {
    return failed(
      em,
      record,
      'Your card was declined. Your request was in test mode, but used a non test (live) card.',
    );
  }
  const code = form.promotionCode?.trim();
  if (code) {
    const problem = enterPromotionCode(em, record, code, at);
    if (problem) return failed(em, record, problem);
  }
  const name = form.billingName.trim() || null;
  const pm = createPaymentMethodFromCard(em, card, {
    expMonth: checked.expMonth,
    expYear: checked.expYear,
    name,
    email,
    at,
  });
  return payWithPaymentMethod(em, record, pm, { email, name });
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function failed(em: Emulator, record: CheckoutRecord, message: string): PayOutcome {
  record.lastError = message;
  em.changed();
  return { ok: false, message };
}

/** Where the buyer goes after paying: `success_url`, or `return_url` for embedded Checkout. */
function redirectOf(em: Emulator, session: Stripe.Checkout.Session): string {
  const target = session.success_url ?? session.return_url ?? em.publicUrl;
  return target.replaceAll('{CHECKOUT_SESSION_ID}', session.id);
}

/**
 * Pays an open session with a PaymentMethod: the charge comes first (a
 * decline leaves the session open, with no customer, subscription or
 * invoice); then the customer if one is needed, the card attached when it is
 * kept, the subscription and its paid first invoice, `checkout.session.completed`.
 * A trial charges nothing: the card is only checked and saved.
 */
export function payWithPaymentMethod(
  em: Emulator,
  record: CheckoutRecord,
  pm: PaymentMethodRecord,
  buyer: { email: string; name: string | null },
): PayOutcome {
  const session = record.session;
  const existing = session.customer ? em.store.customers.get(String(session.customer)) : undefined;
  const at = existing ? em.timeOf(existing.test_clock) : em.now();
  const { email, name } = buyer;
  // Objects Checkout creates carry the session's internal idempotency key; the completion event carries none.
  const req: RequestInfo = { id: null, idempotencyKey: randomUUID() };
  const piData = record.paymentIntentData ?? {
    description: null,
    metadata: {},
    receiptEmail: null,
    setupFutureUsage: null,
  };
  const trialEnd = record.trialDays ? at + record.trialDays * 86400 : null;

  if (trialEnd !== null) {
    const check = attachOutcome(pm.behaviour);
    if (check) return failed(em, record, check.message);
  } else if (chargeOutcome(pm.behaviour)) {
    const pi = sessionPaymentIntent(em, record, existing?.id ?? null, at, req);
    const result = confirmPaymentIntent(em, pi, pm, at, req);
    if (session.mode === 'payment') session.payment_intent = pi.id;
    return failed(em, record, result.decline?.message ?? 'Your card was declined.');
  }

  // Payment mode creates a customer only when asked to (`customer_creation: always`) or when the card is saved.
  const needsCustomer =
    session.mode === 'subscription' ||
    session.customer_creation === 'always' ||
    piData.setupFutureUsage !== null;
  let customer = existing;
  if (!customer && needsCustomer) {
    customer = buildCustomer({
      created: at,
      email,
      name,
      description: null,
      phone: null,
      metadata: {},
      testClock: null,
      defaultPaymentMethod: null,
    });
    em.store.customers.put(customer);
    em.emit('customer.created', customer, { request: req, at });
  }
  // A subscription keeps the card; a one-time payment only when it is set up for future use.
  if (customer && (session.mode === 'subscription' || piData.setupFutureUsage !== null)) {
    attachPaymentMethod(em, pm.id, customer.id, req, at);
  }
  const pi = trialEnd === null ? sessionPaymentIntent(em, record, customer?.id ?? null, at, req) : null;
  if (pi) confirmPaymentIntent(em, pi, pm, at, req);

  session.customer = customer?.id ?? null;
  session.status = 'complete';
  session.payment_status = trialEnd === null ? 'paid' : 'no_payment_required';
  session.url = null;
  session.customer_details = {
    address: { city: null, country: 'US', line1: null, line2: null, postal_code: null, state: null },
    business_name: null,
    email,
    individual_name: null,
    name,
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  };
  if (session.mode === 'subscription' && customer) {
    const sub = startSubscription(em, {
      customer,
      items: record.lineItems.map((li) => ({
        price: li.price as Stripe.Price,
        quantity: li.quantity ?? 1,
        metadata: {},
      })),
      paymentMethod: pm.id,
      metadata: record.subscriptionMetadata,
      description: null,
      at,
      request: req,
      paymentBehavior: 'allow_incomplete',
      paidByCheckout: pi,
      trialEnd,
      discounts: record.discountRefs ?? [],
    });
    session.subscription = sub.id;
    session.invoice =
      typeof sub.latest_invoice === 'string' ? sub.latest_invoice : (sub.latest_invoice?.id ?? null);
  } else {
    if (pi) session.payment_intent = pi.id;
    redeem(
      em,
      record.discountRefs ?? [],
      { customer: customer?.id ?? null, checkoutSession: session.id },
      at,
    );
  }
  record.lastError = null;
  em.emit('checkout.session.completed', session, { at });
  return { ok: true, redirect: redirectOf(em, session) };
}

/**
 * `GET /v1/payment_pages/:id` and `POST /v1/payment_pages/:id/confirm`: the
 * calls Stripe's own Checkout page makes (and `stripe trigger` replays). The
 * emulator answers with the session; confirming pays it with `payment_method`.
 */
export function retrievePaymentPage(em: Emulator, id: string): Stripe.Checkout.Session {
  return em.store.checkoutSessions.require(id, 'checkout_session').session;
}

export function confirmPaymentPage(em: Emulator, id: string, p: Params): Stripe.Checkout.Session {
  const params = new Params(p.raw, [
    'payment_method',
    'expected_amount',
    'email',
    'expected_payment_method_type',
  ]);
  const record = em.store.checkoutSessions.require(id, 'checkout_session');
  const session = record.session;
  if (session.status !== 'open') {
    throw invalidRequest(
      `This Checkout Session is ${session.status}.`,
      undefined,
      'checkout_session_unexpected_state',
    );
  }
  const expected = params.integer('expected_amount');
  if (expected !== undefined && expected !== session.amount_total) {
    throw invalidParam(
      'expected_amount',
      `The expected amount (${expected}) does not match the session's total (${session.amount_total}).`,
    );
  }
  const pm = resolvePaymentMethod(em, params.requiredString('payment_method'));
  const existing = session.customer ? em.store.customers.get(String(session.customer)) : undefined;
  const email =
    existing?.email ?? session.customer_email ?? params.string('email') ?? pm.pm.billing_details.email;
  if (!email) throw missingParam('email');
  const outcome = payWithPaymentMethod(em, record, pm, { email, name: pm.pm.billing_details.name });
  if (!outcome.ok) {
    const decline = chargeOutcome(pm.behaviour) ?? attachOutcome(pm.behaviour);
    throw cardError(decline?.code ?? 'card_declined', decline?.declineCode, outcome.message);
  }
  return session;
}

/**
 * The PaymentIntent that collects the session's total: made at the first
 * attempt, confirmed again when a declined payment is retried. In
 * subscription mode it becomes the first invoice's payment
 * (`invoice.payments`); the session's own `payment_intent` stays null there.
 */
export function sessionPaymentIntent(
  em: Emulator,
  record: CheckoutRecord,
  customer: string | null,
  at: number,
  request: RequestInfo,
): Stripe.PaymentIntent {
  const existing = record.paymentIntent ? em.store.paymentIntents.get(record.paymentIntent) : undefined;
  if (existing) {
    existing.customer ??= customer;
    // A promotion code entered after a declined attempt changes what is charged.
    existing.amount = record.session.amount_total ?? existing.amount;
    return existing;
  }
  const session = record.session;
  const data = record.paymentIntentData;
  const pi = createPaymentIntent(em, {
    amount: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    customer,
    description: session.mode === 'subscription' ? 'Subscription creation' : (data?.description ?? null),
    metadata: session.mode === 'subscription' ? {} : (data?.metadata ?? {}),
    receiptEmail: data?.receiptEmail ?? null,
    setupFutureUsage: session.mode === 'subscription' ? 'off_session' : (data?.setupFutureUsage ?? null),
    at,
    request,
    configure: (draft) => {
      draft.shipping = data?.shipping ?? null;
    },
  });
  record.paymentIntent = pi.id;
  return pi;
}
