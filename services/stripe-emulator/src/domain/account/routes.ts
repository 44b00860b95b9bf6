import { type Operation, op } from '../core/route.js';

/** What GET /v1/account answers: the emulator is one Stripe account. */
export const EMULATOR_ACCOUNT_ID = 'acct_tollgate_emulator';

// `npm start` asks which account a key belongs to before it starts (one cheap call).
export const accountRoutes: Operation[] = [
  op('GET', '/v1/account', () => ({
    id: EMULATOR_ACCOUNT_ID,
    object: 'account',
    country: 'US',
    default_currency: 'usd',
    charges_enabled: true,
    details_submitted: true,
  })),
];
