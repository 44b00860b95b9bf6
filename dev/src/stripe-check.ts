/**
 * With real Stripe, a wrong or unreachable key used to surface only at the
 * first checkout (502). `npm start` asks Stripe which account the key is
 * for (GET /v1/account: one cheap call) before anything starts, and stops
 * with one line if Stripe refuses or cannot be reached: a billing service
 * that cannot take payments is not worth running in a development stack.
 */
import type { Stripe } from '@tollgate/billing';
import { StartError } from './config.js';

export async function stripeAccountOf(stripe: Stripe, where: string): Promise<string> {
  try {
    const account = await stripe.accounts.retrieveCurrent();
    return account.id;
  } catch (error) {
    const e = error as { type?: string; message?: string };
    if (e.type === 'StripeAuthenticationError') {
      throw new StartError(
        `Stripe rejected the key in STRIPE_SECRET_KEY (${e.message}): copy a test-mode secret key (sk_test_…) from https://dashboard.stripe.com/test/apikeys, or unset it to use the emulator`,
      );
    }
    if (e.type === 'StripeConnectionError') {
      throw new StartError(
        `cannot reach Stripe at ${where}: check the network (or STRIPE_API_URL), or unset STRIPE_SECRET_KEY to use the offline emulator`,
      );
    }
    if (e.type === 'StripePermissionError') {
      throw new StartError(
        'the key in STRIPE_SECRET_KEY may not read the account (a restricted key?): use a secret key (sk_test_…)',
      );
    }
    throw error;
  }
}

/**
 * Billing's database for a Stripe account. Billing mirrors one account
 * (catalogue, customers, subscriptions); the emulator's mirror left in
 * .data must not be served as if it were a real account's, so each real
 * account gets a database of its own, kept across restarts.
 */
export function billingDatabaseFor(accountId: string | null): string {
  if (!accountId) return 'tollgate_billing';
  return `tollgate_billing_${accountId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}
