/** PaymentMethod, PaymentIntent, Charge and Refund objects. */
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { newId, randomToken } from '../core/ids.js';
import { emptyAddress } from '../core/shapes.js';

export interface TestCard {
  number: string;
  brand: string;
  last4: string;
  funding: string;
}

/**
 * Stripe's fingerprint is the same for one card number across customers of
 * an account (that is what makes it useful, e.g. against trial abuse): a
 * digest of the number, 16 base62-looking characters like Stripe's.
 */
export function cardFingerprint(number: string): string {
  return createHash('sha256')
    .update(`tollgate-emulator-card|${number.replace(/\D/g, '')}`)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 16);
}

export function buildPaymentMethod(input: {
  created: number;
  card: TestCard;
  expMonth: number;
  expYear: number;
  name: string | null;
  email: string | null;
  customer: string | null;
}): Stripe.PaymentMethod {
  return {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: emptyAddress(),
      email: input.email,
      name: input.name,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: input.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: input.card.brand,
      exp_month: input.expMonth,
      exp_year: input.expYear,
      fingerprint: cardFingerprint(input.card.number),
      funding: input.card.funding,
      generated_from: null,
      last4: input.card.last4,
      networks: { available: [input.card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: input.created,
    customer: input.customer,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

export function buildPaymentIntent(input: {
  created: number;
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  receiptEmail: string | null;
  setupFutureUsage: Stripe.PaymentIntent.SetupFutureUsage | null;
}): Stripe.PaymentIntent {
  const id = newId('pi');
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: 'automatic',
    created: input.created,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: input.receiptEmail,
    review: null,
    setup_future_usage: input.setupFutureUsage,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
}

/** Stripe's statement descriptor for the emulated account. */
export const STATEMENT_DESCRIPTOR = 'TOLLGATE';

export interface ChargeDeclineInfo {
  code: string;
  declineCode: string;
  message: string;
}

export function buildCharge(input: {
  created: number;
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Stripe.Metadata;
  paymentIntent: string;
  paymentMethod: Stripe.PaymentMethod;
  receiptEmail: string | null;
  /** null: the charge succeeds. */
  decline: ChargeDeclineInfo | null;
}): Stripe.Charge {
  const id = newId('ch');
  const card = input.paymentMethod.card;
  const ok = input.decline === null;
  const declineCode = input.decline?.declineCode ?? null;
  return {
    id,
    object: 'charge',
    amount: input.amount,
    amount_captured: ok ? input.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: structuredClone(input.paymentMethod.billing_details),
    calculated_statement_descriptor: STATEMENT_DESCRIPTOR,
    captured: ok,
    created: input.created,
    currency: input.currency,
    customer: input.customer,
    description: input.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: input.decline?.code ?? null,
    failure_message: input.decline?.message ?? null,
    fraud_details: {},
    livemode: false,
    metadata: input.metadata,
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: ok ? 'approved_by_network' : 'declined_by_network',
      reason: declineCode,
      risk_level: 'normal',
      risk_score: 20,
      seller_message: ok
        ? 'Payment complete.'
        : declineCode === 'generic_decline'
          ? 'The bank did not return any further details with this decline.'
          : `The bank returned the decline code \`${declineCode}\`.`,
      type: ok ? 'authorized' : 'issuer_declined',
    },
    paid: ok,
    payment_intent: input.paymentIntent,
    payment_method: input.paymentMethod.id,
    payment_method_details: {
      card: {
        amount_authorized: ok ? input.amount : null,
        authorization_code: ok ? String(100000 + Math.floor(Math.random() * 900000)) : null,
        brand: card?.brand ?? null,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: card?.country ?? 'US',
        electronic_commerce_indicator: null,
        exp_month: card?.exp_month ?? 12,
        exp_year: card?.exp_year ?? 2034,
        extended_authorization: { status: 'disabled' },
        fingerprint: card?.fingerprint ?? null,
        funding: card?.funding ?? null,
        incremental_authorization: { status: 'unavailable' },
        installments: null,
        last4: card?.last4 ?? null,
        mandate: null,
        multicapture: { status: 'unavailable' },
        network: card?.brand ?? null,
        network_token: { used: false },
        network_transaction_id: ok ? randomToken(15).toUpperCase() : null,
        overcapture: { maximum_amount_capturable: input.amount, status: 'unavailable' },
        regulated_status: 'unregulated',
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
      type: 'card',
    },
    receipt_email: input.receiptEmail,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: ok ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: null,
  };
}

export function buildRefund(input: {
  created: number;
  amount: number;
  charge: Stripe.Charge;
  metadata: Stripe.Metadata;
  reason: Stripe.Refund.Reason | null;
}): Stripe.Refund {
  const pi = input.charge.payment_intent;
  return {
    id: newId('re'),
    object: 'refund',
    amount: input.amount,
    balance_transaction: null,
    charge: input.charge.id,
    created: input.created,
    currency: input.charge.currency,
    customer: input.charge.customer,
    customer_account: null,
    destination_details: {
      card: { type: 'reversal' },
      type: 'card',
    },
    metadata: input.metadata,
    payment_intent: typeof pi === 'string' ? pi : (pi?.id ?? null),
    payment_method: input.charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
}
