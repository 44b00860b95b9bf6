import { describe, expect, it } from 'vitest';
import { KNOWN_API_VERSIONS, negotiateVersion } from './api-versions.js';
import { StripeApiError } from './errors.js';
import { API_VERSION } from './shapes.js';

describe('negotiateVersion', () => {
  it('defaults to the pinned version', () => {
    expect(negotiateVersion(undefined)).toBe(API_VERSION);
    expect(negotiateVersion('')).toBe(API_VERSION);
  });

  it('echoes a known older version', () => {
    expect(negotiateVersion('2022-11-15')).toBe('2022-11-15');
    expect(negotiateVersion(['2025-03-31.basil'])).toBe('2025-03-31.basil');
    expect(KNOWN_API_VERSIONS.has(API_VERSION)).toBe(true);
  });

  it('refuses an unknown version with a 400', () => {
    const result = negotiateVersion('2099-01-01');
    expect(result).toBeInstanceOf(StripeApiError);
    const err = result as StripeApiError;
    expect(err.statusCode).toBe(400);
    expect(err.body.type).toBe('invalid_request_error');
    expect(err.body.message).toMatch(/^Invalid Stripe API version: 2099-01-01/);
  });
});
