/**
 * Checkout Sessions and what paying on the hosted page does. Since API version
 * 2025-03-31 Checkout charges first and creates the subscription after the
 * payment: a declined card leaves the session open with no subscription.
 */
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest, missingParam } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import type { CheckoutRecord } from '../core/store.js';
import { buildCustomer } from '../customers/objects.js';
import { chargeOutcome, findTestCard, luhnValid } from '../payments/cards.js';
import { attachPaymentMethod, createPaymentMethodFromCard } from '../payments/payment-methods.js';
import { confirmPaymentIntent, createPaymentIntent } from '../payments/payments.js';
import { requirePrice } from '../products-prices/catalogue.js';
import { startSubscription } from '../subscriptions/create.js';
import { buildCheckoutSession, buildLineItem } from './objects.js';

const CREATE = [
  'mode',
  'line_items',
  'customer',
  'customer_email',
  'client_reference_id',
  'metadata',
  'success_url',
  'cancel_url',
  'expires_at',
  'payment_method_types',
  'allow_promotion_codes',
  'billing_address_collection',
  'subscription_data',
  'payment_intent_data',
  'customer_creation',
  'locale',
  'ui_mode',
  'currency',
  'customer_update',
  'submit_type',
];

/** Stripe's default: a session expires 24 hours after creation. */
const DEFAULT_EXPIRY_SECONDS = 24 * 3600;

export function createCheckoutSession(em: Emulator, p: Params, _req: RequestInfo): Stripe.Checkout.Session {
  const params = new Params(p.raw, CREATE);
  const mode = params.oneOf('mode', ['payment', 'subscription', 'setup'] as const);
  if (!mode) throw missingParam('mode');
  if (mode === 'setup') throw invalidRequest('The emulator does not emulate Checkout in setup mode.', 'mode');
  const customerId = params.string('customer') || null;
  const customer = customerId ? em.store.customers.require(customerId, 'customer') : null;
  const customerEmail = params.string('customer_email') || null;
  if (customer && customerEmail) {
    throw invalidRequest(
      'You may only specify one of these parameters: customer, customer_email.',
      'customer_email',
    );
  }
  const customerCreation = params.oneOf('customer_creation', ['always', 'if_required'] as const);
  if (customerCreation && mode !== 'payment') {
    throw invalidRequest('`customer_creation` can only be used in `payment` mode.', 'customer_creation');
  }
  if (customerCreation && customer) {
    throw invalidRequest(
      'You may only specify one of these parameters: customer, customer_creation.',
      'customer_creation',
    );
  }
  const piData = params.object('payment_intent_data', [
    'description',
    'metadata',
    'receipt_email',
    'setup_future_usage',
    'statement_descriptor',
  ]);
  if (piData && mode !== 'payment') {
    throw invalidRequest(
      `You can not pass \`payment_intent_data\` in \`${mode}\` mode.`,
      'payment_intent_data',
    );
  }
  const successUrl = params.string('success_url') || null;
  const uiMode = params.string('ui_mode');
  if (!successUrl && uiMode !== 'embedded') throw missingParam('success_url');
  const rawItems = params.array('line_items');
  if (!rawItems || rawItems.length === 0) throw missingParam('line_items');
  const items = rawItems.map((raw, i) => {
    const item = new Params(
      raw,
      ['price', 'quantity', 'adjustable_quantity', 'tax_rates'],
      `line_items[${i}]`,
    );
    const price = requirePrice(em, item.requiredString('price'), `line_items[${i}][price]`);
    if (mode === 'subscription' && !price.recurring) {
      throw invalidRequest(
        'You must specify at least one recurring price in `subscription` mode when using prices.',
        `line_items[${i}][price]`,
      );
    }
    if (mode === 'payment' && price.recurring) {
      throw invalidRequest(
        'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
        `line_items[${i}][price]`,
      );
    }
    const quantity = item.integer('quantity') ?? 1;
    const product = em.store.products.get(String(price.product));
    return buildLineItem(price, quantity, product?.name ?? String(price.product));
  });
  const currency = items[0]?.currency ?? 'usd';
  const at = customer ? em.timeOf(customer.test_clock) : em.now();
  const expiresAt = params.integer('expires_at') ?? at + DEFAULT_EXPIRY_SECONDS;
  const session = buildCheckoutSession({
    created: at,
    mode,
    customer: customerId,
    customerEmail,
    clientReferenceId: params.nullableString('client_reference_id') ?? null,
    metadata: params.metadata() ?? {},
    successUrl,
    cancelUrl: params.string('cancel_url') || null,
    currency,
    amountTotal: items.reduce((sum, li) => sum + li.amount_total, 0),
    publicUrl: em.publicUrl,
    expiresAt,
    customerCreation: customerCreation ?? null,
  });
  const subscriptionData = params.object('subscription_data', [
    'metadata',
    'description',
    'trial_period_days',
  ]);
  em.store.checkoutSessions.put({
    id: session.id,
    session,
    lineItems: items,
    lastError: null,
    subscriptionMetadata: subscriptionData?.metadata() ?? {},
    paymentIntentData: {
      description: piData?.nullableString('description') ?? null,
      metadata: piData?.metadata() ?? {},
      receiptEmail: piData?.nullableString('receipt_email') ?? null,
      setupFutureUsage: piData?.oneOf('setup_future_usage', ['off_session', 'on_session'] as const) ?? null,
    },
  });
  em.changed();
  return session;
}

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

export interface PaymentForm {
  email: string;
  cardNumber: string;
  cardExpiry: string;
  cardCvc: string;
  billingName: string;
}

export type PayOutcome = { ok: true; redirect: string } | { ok: false; message: string };

function validateCard(
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

/** The hosted page's pay button. */
export function payCheckoutSession(em: Emulator, id: string, form: PaymentForm): PayOutcome {
  const record = em.store.checkoutSessions.require(id);
  const session = record.session;
  if (session.status !== 'open') return { ok: false, message: `This Checkout Session is ${session.status}.` };
  const existing = session.customer ? em.store.customers.get(String(session.customer)) : undefined;
  const at = existing ? em.timeOf(existing.test_clock) : em.now();
  const email = (existing?.email ?? session.customer_email ?? form.email).trim();
  const fail = (message: string): PayOutcome => {
    record.lastError = message;
    em.changed();
    return { ok: false, message };
  };
  if (!existing && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return fail('Your email address is invalid.');
  const checked = validateCard(form, at);
  if ('error' in checked) return fail(checked.error);
  const card = findTestCard(form.cardNumber);
  if (!card) {
    return fail('Your card was declined. Your request was in test mode, but used a non test (live) card.');
  }
  // Objects Checkout creates carry the session's internal idempotency key; the completion event carries none.
  const req: RequestInfo = { id: null, idempotencyKey: randomUUID() };
  const name = form.billingName.trim() || null;
  const piData = record.paymentIntentData ?? {
    description: null,
    metadata: {},
    receiptEmail: null,
    setupFutureUsage: null,
  };

  // The charge comes first: 0002 and 0341 are declined here and no subscription or invoice is created.
  if (chargeOutcome(card.behaviour)) {
    const pm = createPaymentMethodFromCard(em, card, {
      expMonth: checked.expMonth,
      expYear: checked.expYear,
      name,
      email,
      at,
    });
    const pi = sessionPaymentIntent(em, record, existing?.id ?? null, at, req);
    const result = confirmPaymentIntent(em, pi, pm, at, req);
    if (session.mode === 'payment') session.payment_intent = pi.id;
    return fail(result.decline?.message ?? 'Your card was declined.');
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
  const pm = createPaymentMethodFromCard(em, card, {
    expMonth: checked.expMonth,
    expYear: checked.expYear,
    name,
    email,
    at,
  });
  // A subscription keeps the card; a one-time payment only when it is set up for future use.
  if (customer && (session.mode === 'subscription' || piData.setupFutureUsage !== null)) {
    attachPaymentMethod(em, pm.id, customer.id, req, at);
  }
  const pi = sessionPaymentIntent(em, record, customer?.id ?? null, at, req);
  confirmPaymentIntent(em, pi, pm, at, req);

  session.customer = customer?.id ?? null;
  session.status = 'complete';
  session.payment_status = 'paid';
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
    });
    session.subscription = sub.id;
    session.invoice =
      typeof sub.latest_invoice === 'string' ? sub.latest_invoice : (sub.latest_invoice?.id ?? null);
  } else {
    session.payment_intent = pi.id;
  }
  record.lastError = null;
  em.emit('checkout.session.completed', session, { at });
  const redirect = (session.success_url ?? em.publicUrl).replaceAll('{CHECKOUT_SESSION_ID}', session.id);
  return { ok: true, redirect };
}

/**
 * The PaymentIntent that collects the session's total: made at the first
 * attempt, confirmed again when a declined payment is retried. In
 * subscription mode it becomes the first invoice's payment
 * (`invoice.payments`); the session's own `payment_intent` stays null there.
 */
function sessionPaymentIntent(
  em: Emulator,
  record: CheckoutRecord,
  customer: string | null,
  at: number,
  request: RequestInfo,
): Stripe.PaymentIntent {
  const existing = record.paymentIntent ? em.store.paymentIntents.get(record.paymentIntent) : undefined;
  if (existing) {
    existing.customer ??= customer;
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
  });
  record.paymentIntent = pi.id;
  return pi;
}
