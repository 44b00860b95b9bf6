/**
 * /v1/auth: one file per sub-resource, registered here with the options
 * they share.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccountEmails } from '../../../domain/email/account-emails.service.js';
import type { PasskeyService } from '../../../domain/mfa/passkeys.service.js';
import type { MfaTickets, TotpService } from '../../../domain/mfa/totp.service.js';
import type { OidcService } from '../../../domain/oidc/oidc.service.js';
import type { ServiceClients } from '../../../domain/service-clients/service-clients.js';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import type { LoginHistoryRepository } from '../../../domain/users/login-history.repository.js';
import type { Profiles } from '../../../domain/users/profiles.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { emailRoutes } from './email.js';
import { loginHistoryRoutes } from './login-history.js';
import { meRoutes } from './me.js';
import { mfaRoutes } from './mfa.js';
import { oauthRoutes } from './oauth.js';
import { passkeyRoutes } from './passkeys.js';
import { registerLoginRoutes } from './register-login.js';
import { sessionRoutes } from './sessions.js';
import { tokenRoutes } from './token.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  serviceClients: ServiceClients;
  guards: Guards;
  profiles: Profiles;
  loginHistory: LoginHistoryRepository;
  accountEmails: AccountEmails;
  totp: TotpService;
  passkeys: PasskeyService;
  mfaTickets: MfaTickets;
  rateLimitPerMinute: number;
  /** register and PATCH /me: both tell whether a login or email is taken, so they get a tight limit. */
  accountRateLimitPerHour: number;
  oidc: OidcService;
  publicBaseUrl: string;
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, options) => {
  const rateLimit = { max: options.rateLimitPerMinute, timeWindow: '1 minute' };
  const accountRateLimit = { max: options.accountRateLimitPerHour, timeWindow: '1 hour' };
  await app.register(registerLoginRoutes, { auth: options.auth, rateLimit, accountRateLimit });
  await app.register(meRoutes, {
    auth: options.auth,
    guards: options.guards,
    profiles: options.profiles,
    accountRateLimit,
  });
  await app.register(sessionRoutes, { auth: options.auth, guards: options.guards });
  await app.register(loginHistoryRoutes, { guards: options.guards, loginHistory: options.loginHistory });
  await app.register(emailRoutes, {
    accountEmails: options.accountEmails,
    guards: options.guards,
    rateLimit,
    accountRateLimit,
  });
  await app.register(mfaRoutes, {
    auth: options.auth,
    totp: options.totp,
    profiles: options.profiles,
    guards: options.guards,
    rateLimit,
  });
  await app.register(passkeyRoutes, {
    auth: options.auth,
    passkeys: options.passkeys,
    tickets: options.mfaTickets,
    profiles: options.profiles,
    guards: options.guards,
    rateLimit,
  });
  await app.register(tokenRoutes, { serviceClients: options.serviceClients, rateLimit });
  await app.register(oauthRoutes, {
    oidc: options.oidc,
    guards: options.guards,
    rateLimit,
    publicBaseUrl: options.publicBaseUrl,
  });
};
