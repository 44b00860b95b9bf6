/**
 * The auth service's error catalogue: every problem it answers with, by
 * stable code. Domain code throws these; the problem handler renders them.
 */

import { defineProblem, ProblemError } from '@tollgate/service-kit';

const problem = defineProblem;

export const Problems = {
  invalidCredentials: problem(401, 'invalid_credentials', 'Invalid credentials'),
  accountLocked: (retryAfterSeconds: number) =>
    new ProblemError(
      429,
      'account_locked',
      'Too many failed logins',
      `Too many failed logins for this account from this address; try again in ${retryAfterSeconds} s.`,
      { retryAfter: retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  accountDisabled: problem(403, 'account_disabled', 'Account disabled'),
  ownAccount: problem(409, 'own_account', 'Not on your own account'),
  authenticationRequired: problem(401, 'authentication_required', 'Authentication required'),
  forbidden: problem(403, 'forbidden', 'Forbidden'),
  loginTaken: problem(409, 'login_taken', 'Login already registered'),
  emailTaken: problem(409, 'email_taken', 'Email already registered'),
  emailTokenInvalid: problem(400, 'email_token_invalid', 'Link not valid'),
  emailAlreadyVerified: problem(409, 'email_already_verified', 'Email already verified'),
  mfaRequired: (
    ticket: string,
    expiresInSeconds: number,
    methods: ('totp' | 'passkey')[],
    firstFactor = 'The password is right',
  ) =>
    new ProblemError(
      401,
      'mfa_required',
      'Second factor required',
      `${firstFactor}; send a code from the authenticator app (or a recovery code) with this ticket to POST /v1/auth/login/mfa, or sign with a passkey at POST /v1/auth/login/passkey with the ticket.`,
      { mfa_ticket: ticket, expires_in: expiresInSeconds, methods },
    ),
  mfaTicketInvalid: problem(401, 'mfa_ticket_invalid', 'MFA ticket not valid'),
  mfaCodeInvalid: problem(401, 'mfa_code_invalid', 'Authentication code not valid'),
  mfaAlreadyEnabled: problem(409, 'mfa_already_enabled', 'TOTP already on'),
  mfaNotSetUp: problem(409, 'mfa_not_set_up', 'TOTP not set up'),
  mfaSetupRequired: problem(403, 'mfa_setup_required', 'Second factor required for admins'),
  passkeyChallengeInvalid: problem(400, 'passkey_challenge_invalid', 'Passkey challenge not valid'),
  passkeyInvalid: problem(401, 'passkey_invalid', 'Passkey response not valid'),
  passkeyNotFound: problem(404, 'passkey_not_found', 'Passkey not found'),
  passkeyLimit: problem(409, 'passkey_limit', 'Too many passkeys'),
  weakPassword: problem(400, 'weak_password', 'Password not accepted'),
  currentPasswordRequired: problem(400, 'current_password_required', 'Current password required'),
  currentPasswordInvalid: problem(403, 'current_password_invalid', 'Current password is wrong'),
  refreshTokenInvalid: problem(401, 'refresh_token_invalid', 'Refresh token not valid'),
  refreshTokenReused: problem(401, 'refresh_token_reused', 'Refresh token reused'),
  sessionNotFound: problem(404, 'session_not_found', 'Session not found'),
  userNotFound: problem(404, 'user_not_found', 'User not found'),
  roleNotFound: problem(404, 'role_not_found', 'Role not found'),
  roleExists: problem(409, 'role_exists', 'Role already exists'),
  roleProtected: problem(409, 'role_protected', 'Role is built in'),
  invalidClient: (detail: string) =>
    new ProblemError(
      401,
      'invalid_client',
      'Client authentication failed',
      detail,
      { error: 'invalid_client' },
      {
        'www-authenticate': 'Basic realm="tollgate"',
      },
    ),
  unsupportedGrantType: (detail: string) =>
    new ProblemError(400, 'unsupported_grant_type', 'Unsupported grant type', detail, {
      error: 'unsupported_grant_type',
    }),
  invalidScope: (detail: string) =>
    new ProblemError(400, 'invalid_scope', 'Scope not allowed', detail, { error: 'invalid_scope' }),
  temporarilyUnavailable: (detail: string, retryAfterSeconds = 1) =>
    new ProblemError(
      503,
      'temporarily_unavailable',
      'Temporarily unavailable',
      detail,
      { retryAfter: retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  oauthProviderUnknown: problem(404, 'oauth_provider_unknown', 'Unknown login provider'),
  oauthProviderUnavailable: (detail: string, retryAfterSeconds = 5) =>
    new ProblemError(
      503,
      'oauth_provider_unavailable',
      'Login provider unavailable',
      detail,
      { retryAfter: retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  oauthRedirectNotAllowed: problem(400, 'oauth_redirect_not_allowed', 'Redirect URI not allowed'),
  oauthStateInvalid: problem(400, 'oauth_state_invalid', 'Login flow not recognised'),
  oauthCallbackFailed: problem(400, 'oauth_callback_failed', 'Provider login failed'),
  oauthCodeInvalid: problem(401, 'oauth_code_invalid', 'One-time code not valid'),
  oauthEmailUnverified: problem(409, 'oauth_email_unverified', 'Email not verified by the provider'),
  identityLinkedElsewhere: problem(409, 'identity_linked_elsewhere', 'Identity linked to another account'),
  identityNotFound: problem(404, 'identity_not_found', 'Identity not found'),
  lastLoginMethod: problem(409, 'last_login_method', 'Last way to log in'),
  rateLimited: (retryAfterSeconds: number) =>
    new ProblemError(
      429,
      'rate_limited',
      'Too many requests',
      `Rate limit exceeded; retry in ${retryAfterSeconds} s.`,
      { retryAfter: retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    ),
};
