/**
 * SetupIntents: save a card for later without charging it. Confirming runs
 * the card check that attaching does (cards that decline every check fail it
 * with `setup_intent.setup_failed` and a 402), attaches the payment method to
 * the customer when there is one, and succeeds.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { cardError, invalidRequest } from '../core/errors.js';
import { newId, randomToken } from '../core/ids.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { attachOutcome } from './cards.js';
import { attachPaymentMethod, resolvePaymentMethod } from './payment-methods.js';

const CREATE = [
  'customer',
  'description',
  'metadata',
  'payment_method',
  'payment_method_types',
  'confirm',
  'usage',
  'return_url',
  'automatic_payment_methods',
  'mandate_data',
  'payment_method_options',
  'single_use',
  'use_stripe_sdk',
  'attach_to_self',
  'flow_directions',
];

export function buildSetupIntent(input: {
  created: number;
  customer: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  paymentMethodTypes: string[];
  usage: string;
}): Stripe.SetupIntent {
  const id = newId('seti');
  return {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomToken(32)}`,
    created: input.created,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: input.paymentMethodTypes,
    single_use_mandate: null,
    status: 'requires_payment_method',
    usage: input.usage,
  };
}

function customerOf(si: Stripe.SetupIntent): string | null {
  return typeof si.customer === 'string' ? si.customer : (si.customer?.id ?? null);
}

function setPaymentMethod(em: Emulator, si: Stripe.SetupIntent, id: string): void {
  si.payment_method = resolvePaymentMethod(em, id).id;
  si.status = 'requires_confirmation';
}

function confirm(em: Emulator, si: Stripe.SetupIntent, req: RequestInfo): Stripe.SetupIntent {
  const pmId = typeof si.payment_method === 'string' ? si.payment_method : si.payment_method?.id;
  if (!pmId) {
    throw invalidRequest(
      "You cannot confirm this SetupIntent because it's missing a payment method.",
      undefined,
      'setup_intent_unexpected_state',
    );
  }
  const record = resolvePaymentMethod(em, pmId);
  const customer = customerOf(si);
  const at = em.timeOfCustomer(customer);
  const decline = attachOutcome(record.behaviour);
  if (decline) {
    si.status = 'requires_payment_method';
    si.payment_method = null;
    si.last_setup_error = {
      code: decline.code,
      decline_code: decline.declineCode,
      doc_url: `https://stripe.com/docs/error-codes/${decline.code.replaceAll('_', '-')}`,
      message: decline.message,
      payment_method: structuredClone(record.pm),
      type: 'card_error',
    };
    em.emit('setup_intent.setup_failed', si, { request: req, at });
    throw cardError(decline.code, decline.declineCode, decline.message, {
      setup_intent: structuredClone(si),
      payment_method: structuredClone(record.pm),
    });
  }
  if (customer) attachPaymentMethod(em, record.id, customer, req, at);
  si.status = 'succeeded';
  si.last_setup_error = null;
  em.emit('setup_intent.succeeded', si, { request: req, at });
  return si;
}

export function createSetupIntent(em: Emulator, p: Params, req: RequestInfo): Stripe.SetupIntent {
  const params = new Params(p.raw, CREATE);
  const customer = params.string('customer') || null;
  if (customer) em.store.customers.require(customer, 'customer');
  const si = buildSetupIntent({
    created: em.timeOfCustomer(customer),
    customer,
    description: params.nullableString('description') ?? null,
    metadata: params.metadata() ?? {},
    paymentMethodTypes: params.stringArray('payment_method_types') ?? ['card'],
    usage: params.oneOf('usage', ['off_session', 'on_session'] as const) ?? 'off_session',
  });
  const pm = params.string('payment_method');
  if (pm) setPaymentMethod(em, si, pm);
  em.store.setupIntents.put(si);
  em.emit('setup_intent.created', si, { request: req, at: si.created });
  if (params.boolean('confirm')) confirm(em, si, req);
  return si;
}

export function confirmSetupIntent(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.SetupIntent {
  const params = new Params(p.raw, [
    'payment_method',
    'return_url',
    'mandate_data',
    'payment_method_options',
    'use_stripe_sdk',
  ]);
  const si = em.store.setupIntents.require(id);
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(si.status)) {
    throw invalidRequest(
      `You cannot confirm this SetupIntent because it has a status of ${si.status}.`,
      undefined,
      'setup_intent_unexpected_state',
    );
  }
  const pm = params.string('payment_method');
  if (pm) setPaymentMethod(em, si, pm);
  return confirm(em, si, req);
}

export function cancelSetupIntent(em: Emulator, id: string, p: Params, req: RequestInfo): Stripe.SetupIntent {
  const params = new Params(p.raw, ['cancellation_reason']);
  const si = em.store.setupIntents.require(id);
  if (si.status === 'succeeded' || si.status === 'canceled') {
    throw invalidRequest(
      `You cannot cancel this SetupIntent because it has a status of ${si.status}.`,
      undefined,
      'setup_intent_unexpected_state',
    );
  }
  si.status = 'canceled';
  si.cancellation_reason =
    params.oneOf('cancellation_reason', ['abandoned', 'duplicate', 'requested_by_customer'] as const) ?? null;
  em.emit('setup_intent.canceled', si, { request: req, at: em.timeOfCustomer(customerOf(si)) });
  return si;
}

export function retrieveSetupIntent(em: Emulator, id: string): Stripe.SetupIntent {
  return em.store.setupIntents.require(id);
}

export function listSetupIntents(em: Emulator, p: Params): Stripe.ApiList<Stripe.SetupIntent> {
  const customer = p.string('customer');
  const pm = p.string('payment_method');
  return paginate(
    em.store.setupIntents.newestFirst(),
    p,
    '/v1/setup_intents',
    'setup_intent',
    (x) =>
      (customer === undefined || x.customer === customer) &&
      (pm === undefined || x.payment_method === pm) &&
      matchesRange(p, 'created', x.created),
  );
}
