import { describe, expect, it } from 'vitest';
import { stripeResource } from './metrics.js';

describe('stripeResource', () => {
  it('turns a Stripe request path into a bounded label: ids become :id', () => {
    expect(stripeResource('/v1/customers/cus_Q1w2E3r4')).toBe('customers/:id');
    expect(stripeResource('/v1/subscriptions/sub_1PqRsT2u3V')).toBe('subscriptions/:id');
    expect(stripeResource('/v1/checkout/sessions/cs_test_a1B2c3/expire')).toBe(
      'checkout/sessions/:id/expire',
    );
    expect(stripeResource('/v1/prices/price_tollgate_premium_monthly')).toBe('prices/:id');
    expect(stripeResource('/v1/events?limit=100&created[gte]=1')).toBe('events');
    expect(stripeResource('/v1/billing_portal/sessions')).toBe('billing_portal/sessions');
  });
});
