import { createStripeClient } from '@tollgate/billing';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartError } from './config.js';
import { billingDatabaseFor, stripeAccountOf } from './stripe-check.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

const client = (key: string) =>
  createStripeClient({
    secretKey: key,
    host: '127.0.0.1',
    port: emulator.port,
    protocol: 'http',
  } as Parameters<typeof createStripeClient>[0]);

describe('the Stripe check at start', () => {
  it('names the account of a key Stripe accepts, and billing gets a database of that account', async () => {
    const account = await stripeAccountOf(client(emulator.apiKey), emulator.url);
    expect(account).toBe('acct_tollgate_emulator');
    expect(billingDatabaseFor(account)).toBe('tollgate_billing_acct_tollgate_emulator');
    // The emulator under npm start keeps the database it always had.
    expect(billingDatabaseFor(null)).toBe('tollgate_billing');
  });

  it('says "Stripe rejected the key" for a wrong key', async () => {
    const error = await stripeAccountOf(client('sk_test_wrong'), emulator.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartError);
    expect((error as Error).message).toMatch(/^Stripe rejected the key in STRIPE_SECRET_KEY/);
  });
});
