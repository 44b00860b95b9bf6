/**
 * Stripe's test cards and magic payment method ids, and how each behaves.
 * https://docs.stripe.com/testing
 */

import type { CardBehaviour } from '../core/store.js';
import type { TestCard } from './objects.js';

export interface TestCardSpec extends TestCard {
  behaviour: CardBehaviour;
}

const CARDS: TestCardSpec[] = [
  { number: '4242424242424242', brand: 'visa', last4: '4242', funding: 'credit', behaviour: 'succeeds' },
  { number: '4000056655665556', brand: 'visa', last4: '5556', funding: 'debit', behaviour: 'succeeds' },
  {
    number: '5555555555554444',
    brand: 'mastercard',
    last4: '4444',
    funding: 'credit',
    behaviour: 'succeeds',
  },
  { number: '4000000000000002', brand: 'visa', last4: '0002', funding: 'credit', behaviour: 'declined' },
  {
    number: '4000000000009995',
    brand: 'visa',
    last4: '9995',
    funding: 'credit',
    behaviour: 'insufficient_funds',
  },
  { number: '4000000000000341', brand: 'visa', last4: '0341', funding: 'credit', behaviour: 'charge_fails' },
  { number: '378282246310005', brand: 'amex', last4: '0005', funding: 'credit', behaviour: 'succeeds' },
  { number: '6011111111111117', brand: 'discover', last4: '1117', funding: 'credit', behaviour: 'succeeds' },
];

export const MAGIC_PAYMENT_METHODS: Record<string, string> = {
  pm_card_visa: '4242424242424242',
  pm_card_visa_debit: '4000056655665556',
  pm_card_mastercard: '5555555555554444',
  pm_card_visa_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeCustomerFail: '4000000000000341',
  pm_card_amex: '378282246310005',
  pm_card_discover: '6011111111111117',
};

/** Test tokens (`card[token]=tok_visa` on `POST /v1/payment_methods`), the same cards by another name. */
export const TEST_TOKENS: Record<string, string> = {
  tok_visa: '4242424242424242',
  tok_visa_debit: '4000056655665556',
  tok_mastercard: '5555555555554444',
  tok_amex: '378282246310005',
  tok_discover: '6011111111111117',
  tok_chargeDeclined: '4000000000000002',
  tok_visa_chargeDeclined: '4000000000000002',
  tok_chargeDeclinedInsufficientFunds: '4000000000009995',
  tok_chargeCustomerFail: '4000000000000341',
};

export function findTestCard(number: string): TestCardSpec | undefined {
  const digits = number.replace(/[\s-]/g, '');
  return CARDS.find((c) => c.number === digits);
}

export function luhnValid(number: string): boolean {
  const digits = number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export interface ChargeDecline {
  code: string;
  declineCode: string;
  message: string;
}

/** What a charge to a card with this behaviour returns; null when it succeeds. */
export function chargeOutcome(behaviour: CardBehaviour): ChargeDecline | null {
  switch (behaviour) {
    case 'succeeds':
      return null;
    case 'insufficient_funds':
      return {
        code: 'card_declined',
        declineCode: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      };
    case 'declined':
    case 'charge_fails':
      return { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' };
  }
}

/** Attaching runs a card check: cards that decline every check cannot be attached; 0341 can. */
export function attachOutcome(behaviour: CardBehaviour): ChargeDecline | null {
  return behaviour === 'charge_fails' ? null : chargeOutcome(behaviour);
}
