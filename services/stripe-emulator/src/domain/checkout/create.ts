/** Creating Checkout Sessions: modes, line items (prices or `price_data`), customer, trials, discounts, `ui_mode`. */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidParam, invalidRequest, missingParam } from '../core/errors.js';
import { Params } from '../core/params.js';
import type { CheckoutRecord, PaymentIntentData } from '../core/store.js';
import { shippingParam } from '../payments/payment-intents.js';
import { createInlinePrice, requirePrice } from '../products-prices/catalogue.js';
import { applyCheckoutDiscounts } from './discounts.js';
import { buildCheckoutSession, buildLineItem } from './objects.js';

export const CREATE = [
  'mode',
  'line_items',
  'customer',
  'customer_email',
  'client_reference_id',
  'metadata',
  'success_url',
  'cancel_url',
  'return_url',
  'redirect_on_completion',
  'expires_at',
  'payment_method_types',
  'allow_promotion_codes',
  'discounts',
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
export const DEFAULT_EXPIRY_SECONDS = 24 * 3600;

const UI_MODES = ['hosted_page', 'embedded_page'] as const;

function customerParams(em: Emulator, params: Params, mode: Stripe.Checkout.Session.Mode) {
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
  return { customer, customerEmail, customerCreation };
}

function paymentIntentData(params: Params, mode: Stripe.Checkout.Session.Mode): PaymentIntentData {
  const piData = params.object('payment_intent_data', [
    'description',
    'metadata',
    'receipt_email',
    'setup_future_usage',
    'statement_descriptor',
    'shipping',
    'capture_method',
  ]);
  if (piData && mode !== 'payment') {
    throw invalidRequest(
      `You can not pass \`payment_intent_data\` in \`${mode}\` mode.`,
      'payment_intent_data',
    );
  }
  return {
    description: piData?.nullableString('description') ?? null,
    metadata: piData?.metadata() ?? {},
    receiptEmail: piData?.nullableString('receipt_email') ?? null,
    setupFutureUsage: piData?.oneOf('setup_future_usage', ['off_session', 'on_session'] as const) ?? null,
    shipping: piData ? (shippingParam(piData) ?? null) : null,
  };
}

/** `line_items[i][price]` or `line_items[i][price_data]` (an inline price made for this session). */
function lineItem(
  em: Emulator,
  raw: unknown,
  i: number,
  mode: Stripe.Checkout.Session.Mode,
): Stripe.LineItem {
  const item = new Params(
    raw,
    ['price', 'price_data', 'quantity', 'adjustable_quantity', 'tax_rates', 'dynamic_tax_rates'],
    `line_items[${i}]`,
  );
  const param = `line_items[${i}][price]`;
  const priceData = item.object('price_data', [
    'currency',
    'product',
    'product_data',
    'unit_amount',
    'unit_amount_decimal',
    'recurring',
    'tax_behavior',
  ]);
  const price = priceData
    ? createInlinePrice(em, priceData)
    : requirePrice(em, item.requiredString('price'), param);
  if (mode === 'subscription' && !price.recurring) {
    throw invalidRequest(
      'You must specify at least one recurring price in `subscription` mode when using prices.',
      param,
    );
  }
  if (mode === 'payment' && price.recurring) {
    throw invalidRequest(
      'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
      param,
    );
  }
  const quantity = item.integer('quantity') ?? 1;
  const product = em.store.products.get(String(price.product));
  return buildLineItem(price, quantity, product?.name ?? String(price.product));
}

export function createCheckoutSession(em: Emulator, p: Params, _req: RequestInfo): Stripe.Checkout.Session {
  const params = new Params(p.raw, CREATE);
  const mode = params.oneOf('mode', ['payment', 'subscription', 'setup'] as const);
  if (!mode) throw missingParam('mode');
  if (mode === 'setup') throw invalidRequest('The emulator does not emulate Checkout in setup mode.', 'mode');
  const { customer, customerEmail, customerCreation } = customerParams(em, params, mode);
  const piData = paymentIntentData(params, mode);
  const uiMode = params.oneOf('ui_mode', UI_MODES) ?? 'hosted_page';
  const successUrl = params.string('success_url') || null;
  const returnUrl = params.string('return_url') || null;
  if (uiMode === 'hosted_page') {
    if (!successUrl) throw missingParam('success_url');
    if (returnUrl) throw invalidRequest('`return_url` is only for `ui_mode: embedded_page`.', 'return_url');
  } else {
    if (successUrl)
      throw invalidRequest(
        '`success_url` is not used with `ui_mode: embedded_page`; pass `return_url`.',
        'success_url',
      );
    if (!returnUrl) throw missingParam('return_url');
  }
  const rawItems = params.array('line_items');
  if (!rawItems || rawItems.length === 0) throw missingParam('line_items');
  const items = rawItems.map((raw, i) => lineItem(em, raw, i, mode));
  const subscriptionData = params.object('subscription_data', [
    'metadata',
    'description',
    'trial_period_days',
  ]);
  if (subscriptionData && mode !== 'subscription') {
    throw invalidRequest(`You can not pass \`subscription_data\` in \`${mode}\` mode.`, 'subscription_data');
  }
  const trialDays = subscriptionData?.integer('trial_period_days');
  if (trialDays !== undefined && trialDays < 1) {
    throw invalidParam(
      'subscription_data[trial_period_days]',
      'This value must be greater than or equal to 1.',
    );
  }
  const currency = items[0]?.currency ?? 'usd';
  const at = customer ? em.timeOf(customer.test_clock) : em.now();
  const expiresAt = params.integer('expires_at') ?? at + DEFAULT_EXPIRY_SECONDS;
  const subtotal = items.reduce((sum, li) => sum + li.amount_total, 0);
  const session = buildCheckoutSession({
    created: at,
    mode,
    customer: customer?.id ?? null,
    customerEmail,
    clientReferenceId: params.nullableString('client_reference_id') ?? null,
    metadata: params.metadata() ?? {},
    successUrl,
    cancelUrl: params.string('cancel_url') || null,
    currency,
    amountTotal: subtotal,
    publicUrl: em.publicUrl,
    expiresAt,
    customerCreation: customerCreation ?? null,
    uiMode,
    returnUrl,
  });
  const record: CheckoutRecord = {
    id: session.id,
    session,
    lineItems: items,
    lastError: null,
    subscriptionMetadata: subscriptionData?.metadata() ?? {},
    paymentIntentData: piData,
    ...(trialDays ? { trialDays } : {}),
  };
  // A trial charges nothing today: the total is what the first invoice asks, 0.
  if (trialDays) {
    session.amount_total = 0;
    session.amount_subtotal = 0;
  }
  applyCheckoutDiscounts(em, record, params, at);
  em.store.checkoutSessions.put(record);
  em.changed();
  return session;
}
