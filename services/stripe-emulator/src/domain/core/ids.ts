import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
  return out;
}

/** Ids shaped like Stripe's: prefix, underscore, base62 (checkout sessions carry a long `cs_test_` token). */
export function newId(prefix: string): string {
  if (prefix === 'cs') return `cs_test_${randomToken(58)}`;
  const long =
    prefix === 'price' || prefix === 'sub' || prefix === 'in' || prefix === 'evt' || prefix === 'pm';
  return `${prefix}_${randomToken(long ? 24 : 14)}`;
}

export function requestId(): string {
  return `req_${randomToken(14)}`;
}
