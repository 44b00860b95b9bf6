/**
 * What every emulated object shares: the API version they are rendered in and
 * the small value shapes used across resources.
 */
import type Stripe from 'stripe';

/** The API version every object and event is rendered in (the one stripe@23 pins). */
export const API_VERSION = '2026-10-28.endive';

type Decimal = NonNullable<Stripe.Price['unit_amount_decimal']>;

/**
 * Decimal fields travel as strings on the wire (the SDK turns them into its
 * Decimal class on receipt), so the emulator stores the string.
 */
export function decimal(value: number | string): Decimal {
  return String(value) as unknown as Decimal;
}

export function emptyAddress(): Stripe.Address {
  return { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
}
