/**
 * Every problem `code` tollgate answers with, for people: what it means and
 * what to do. A problem's `type` is `/problems/<code>` (relative: RFC 9457
 * allows a URI reference, and it resolves against whichever gateway answered),
 * and the gateway serves a page per code from this list (billing renders it).
 * Each service's tests check that every code of its own catalogue is here,
 * with the same status and title.
 */
export interface ProblemDoc {
  code: string;
  status: number;
  title: string;
  /** Who answers with it. */
  from: 'auth' | 'billing' | 'auth, billing' | 'gateway' | 'auth, billing, gateway';
  /** What happened and what to do, in a sentence or two. */
  help: string;
}

export function problemType(code: string): string {
  return `/problems/${code}`;
}

export const PROBLEM_CATALOGUE: readonly ProblemDoc[] = [
  // --- any service ---------------------------------------------------------
  {
    code: 'validation_failed',
    status: 400,
    title: 'Request validation failed',
    from: 'auth, billing',
    help: "A parameter or a field of the body is missing, unknown or of the wrong type. `errors` lists each one with where it is (`in`, `path`); fix those and send again. Swagger UI (/swagger) shows every route's schema.",
  },
  {
    code: 'malformed_body',
    status: 400,
    title: 'Malformed request body',
    from: 'auth, billing',
    help: 'The body is not valid JSON (or is empty while Content-Type says JSON). Send a JSON object, e.g. `{"login":"foo","password":"…"}`.',
  },
  {
    code: 'unsupported_media_type',
    status: 415,
    title: 'Unsupported media type',
    from: 'auth, billing',
    help: "The body was sent without a Content-Type the route accepts. Send JSON with `Content-Type: application/json` (curl: `-H 'content-type: application/json'`).",
  },
  {
    code: 'body_too_large',
    status: 413,
    title: 'Request body too large',
    from: 'auth, billing, gateway',
    help: 'The body is over the limit for this path (64 KiB for auth, 1 MiB for billing). Send less.',
  },
  {
    code: 'credentials_in_query',
    status: 400,
    title: 'Credentials in the URL',
    from: 'auth, billing',
    help: 'Passwords and tokens must not travel in the query string: URLs end up in logs and browser history. Send passwords in the JSON body and tokens in `Authorization: Bearer <token>`.',
  },
  {
    code: 'bad_request',
    status: 400,
    title: 'Bad request',
    from: 'auth, billing, gateway',
    help: 'The request could not be understood (for example a malformed path or header). The `detail` says what; fix the request and send again.',
  },
  {
    code: 'route_not_found',
    status: 404,
    title: 'Not found',
    from: 'auth, billing, gateway',
    help: 'No route has this method and path. Check the path against Swagger UI (/swagger); the public API lives under /v1 (auth) and /api/v1 (billing).',
  },
  {
    code: 'rate_limited',
    status: 429,
    title: 'Too many requests',
    from: 'auth, billing',
    help: 'Too many requests from this address for this endpoint. Wait the number of seconds in `Retry-After` (also in `retryAfter`) and try again.',
  },
  {
    code: 'internal_error',
    status: 500,
    title: 'Internal server error',
    from: 'auth, billing',
    help: 'Something went wrong on our side; nothing you sent caused it. Try again; if it persists, report the `requestId` so the operator can find the error in the logs.',
  },
  {
    code: 'malformed_url',
    status: 400,
    title: 'Malformed URL',
    from: 'auth, billing',
    help: 'The path is not valid percent-encoded UTF-8. Encode reserved characters with `encodeURIComponent` (or `curl --data-urlencode`).',
  },
  {
    code: 'malformed_encoding',
    status: 400,
    title: 'Malformed encoding',
    from: 'auth, billing',
    help: 'A query or form value is not valid percent-encoding. Encode each value once, as UTF-8.',
  },
  {
    code: 'invalid_characters',
    status: 400,
    title: 'Characters not allowed',
    from: 'auth, billing',
    help: 'A value contains a NUL character or a lone UTF-16 surrogate, which no field accepts. `location` says which; send valid text.',
  },
  {
    code: 'number_out_of_range',
    status: 400,
    title: 'Number out of range',
    from: 'auth, billing',
    help: 'A number is not finite (too large, or NaN/Infinity). Send a number in the documented range.',
  },
  {
    code: 'uri_too_long',
    status: 414,
    title: 'URI too long',
    from: 'auth, billing, gateway',
    help: 'The request line or a path parameter is over the limit (8 KiB at the gateway). Send large data in the body.',
  },
  {
    code: 'malformed_request',
    status: 400,
    title: 'Malformed request',
    from: 'gateway',
    help: 'The gateway could not parse the request (a path that does not decode, a NUL in it, no leading slash). Check the percent-encoding of the URL.',
  },
  {
    code: 'headers_too_large',
    status: 431,
    title: 'Request headers too large',
    from: 'gateway',
    help: 'A request header is over the gateway limit (8 KiB): usually a huge cookie or token. Send less.',
  },
  {
    code: 'cross_origin_rejected',
    status: 403,
    title: 'Request from another origin',
    from: 'billing',
    help: 'The admin panel accepts changes only from its own pages. Use the panel at /admin, not a form or script elsewhere.',
  },
  {
    code: 'csrf_token_invalid',
    status: 403,
    title: 'Missing or wrong CSRF token',
    from: 'billing',
    help: "The admin panel form was stale or not the panel's own. Reload the page and try again.",
  },
  {
    code: 'admin_action_forbidden',
    status: 403,
    title: 'Action not allowed',
    from: 'billing',
    help: "This admin action is not allowed on this record (billing data mirrors Stripe and is changed there, or by the panel's own actions).",
  },
  // --- tokens (any service that verifies them) ------------------------------
  {
    code: 'authentication_required',
    status: 401,
    title: 'Authentication required',
    from: 'auth, billing',
    help: 'This route needs an access token. Log in (POST /v1/auth/login) and send the `access_token` as `Authorization: Bearer <token>`.',
  },
  {
    code: 'token_invalid',
    status: 401,
    title: 'Token not accepted',
    from: 'auth, billing',
    help: 'The access token is malformed, signed by a key we do not know, or meant for another audience. Log in again for a fresh one.',
  },
  {
    code: 'token_expired',
    status: 401,
    title: 'Token not accepted',
    from: 'auth, billing',
    help: 'The access token has expired (they live 15 minutes). Get a new one with POST /v1/auth/refresh-token and your refresh token, or log in again.',
  },
  {
    code: 'token_revoked',
    status: 401,
    title: 'Token not accepted',
    from: 'auth, billing',
    help: 'The session this token belongs to was logged out (or all sessions were). Log in again.',
  },
  {
    code: 'insufficient_scope',
    status: 403,
    title: 'Insufficient scope',
    from: 'auth, billing',
    help: 'The token is valid but lacks the scope this route needs. Use a token issued for it.',
  },
  // --- auth -------------------------------------------------------------------
  {
    code: 'invalid_credentials',
    status: 401,
    title: 'Invalid credentials',
    from: 'auth',
    help: 'The login or the password is wrong. Check both (logins are case-sensitive); after repeated failures the account is locked for a while.',
  },
  {
    code: 'account_locked',
    status: 429,
    title: 'Too many failed logins',
    from: 'auth',
    help: 'Too many failed logins for this account from your address. Wait the seconds in `Retry-After`, then log in with the right password.',
  },
  {
    code: 'forbidden',
    status: 403,
    title: 'Forbidden',
    from: 'auth',
    help: "Your account may not do this (an admin role is needed, or it is another user's resource).",
  },
  {
    code: 'login_taken',
    status: 409,
    title: 'Login already registered',
    from: 'auth',
    help: 'Someone has this login already. Pick another, or log in if it is yours.',
  },
  {
    code: 'email_taken',
    status: 409,
    title: 'Email already registered',
    from: 'auth',
    help: 'An account with this email exists. Log in with it, or use another address.',
  },
  {
    code: 'weak_password',
    status: 400,
    title: 'Password not accepted',
    from: 'auth',
    help: 'The password is too short or too common. Use a longer passphrase (several words work well).',
  },
  {
    code: 'current_password_required',
    status: 400,
    title: 'Current password required',
    from: 'auth',
    help: 'Changing the password or email needs the current password: send it as `current_password`.',
  },
  {
    code: 'current_password_invalid',
    status: 403,
    title: 'Current password is wrong',
    from: 'auth',
    help: "The `current_password` you sent is not the account's password.",
  },
  {
    code: 'refresh_token_invalid',
    status: 401,
    title: 'Refresh token not valid',
    from: 'auth',
    help: 'The refresh token is unknown, expired or its session ended. Log in again.',
  },
  {
    code: 'refresh_token_reused',
    status: 401,
    title: 'Refresh token reused',
    from: 'auth',
    help: 'This refresh token was already exchanged once; reuse suggests it was copied, so the session was ended. Log in again.',
  },
  {
    code: 'session_not_found',
    status: 404,
    title: 'Session not found',
    from: 'auth',
    help: 'No session of yours has this id (it may have ended already). GET /v1/auth/sessions lists yours.',
  },
  {
    code: 'user_not_found',
    status: 404,
    title: 'User not found',
    from: 'auth',
    help: 'No user has this login or id.',
  },
  {
    code: 'role_not_found',
    status: 404,
    title: 'Role not found',
    from: 'auth',
    help: 'No role has this name.',
  },
  {
    code: 'role_exists',
    status: 409,
    title: 'Role already exists',
    from: 'auth',
    help: 'A role with this name exists already.',
  },
  {
    code: 'role_protected',
    status: 409,
    title: 'Role is built in',
    from: 'auth',
    help: 'Built-in roles cannot be deleted or renamed.',
  },
  {
    code: 'invalid_client',
    status: 401,
    title: 'Client authentication failed',
    from: 'auth',
    help: "The service client id or secret is wrong (client credentials grant). Check SERVICE_CLIENTS on auth and the client's own settings.",
  },
  {
    code: 'unsupported_grant_type',
    status: 400,
    title: 'Unsupported grant type',
    from: 'auth',
    help: 'The token endpoint only supports `grant_type=client_credentials`.',
  },
  {
    code: 'invalid_scope',
    status: 400,
    title: 'Scope not allowed',
    from: 'auth',
    help: 'The client asked for a scope it is not allowed. Ask only for the scopes SERVICE_CLIENTS gives it.',
  },
  {
    code: 'invalid_cursor',
    status: 400,
    title: 'Invalid cursor',
    from: 'auth',
    help: 'The `cursor` was not one this API handed out. Start from the first page, then pass the `next_cursor` you get back.',
  },
  // --- billing ----------------------------------------------------------------
  {
    code: 'price_not_found',
    status: 404,
    title: 'Price not found',
    from: 'billing',
    help: 'No active price has this id. GET /api/v1/products lists the plans and their price ids.',
  },
  {
    code: 'price_not_recurring',
    status: 400,
    title: 'Price is not a subscription price',
    from: 'billing',
    help: 'This price is one-off; subscriptions need a monthly or yearly price from GET /api/v1/products.',
  },
  {
    code: 'customer_not_found',
    status: 404,
    title: 'No billing customer',
    from: 'billing',
    help: 'You have no billing customer yet: POST /api/v1/customer creates it (a checkout creates it too).',
  },
  {
    code: 'already_purchased',
    status: 409,
    title: 'Already purchased',
    from: 'billing',
    help: 'You already own this one-time product, for good or until it runs out; GET /api/v1/entitlements shows what it gives you.',
  },
  {
    code: 'subscription_not_found',
    status: 404,
    title: 'No subscription',
    from: 'billing',
    help: 'You have no subscription. Pick a plan and start a checkout (GET /api/v1/checkout?price_id=…, or the plans on the home page).',
  },
  {
    code: 'subscription_exists',
    status: 409,
    title: 'Already subscribed',
    from: 'billing',
    help: 'You already have a live subscription. Change its plan with PUT /api/v1/subscription instead of starting another checkout.',
  },
  {
    code: 'subscription_not_canceling',
    status: 409,
    title: 'Subscription is not set to cancel',
    from: 'billing',
    help: 'There is nothing to resume: the subscription is not set to cancel.',
  },
  {
    code: 'subscription_ended',
    status: 409,
    title: 'Subscription has ended',
    from: 'billing',
    help: 'The subscription is over and cannot be changed; start a new one with a checkout.',
  },
  {
    code: 'same_price',
    status: 409,
    title: 'Already on this plan',
    from: 'billing',
    help: 'The subscription is on this price already; pick another plan to change to.',
  },
  {
    code: 'checkout_session_not_found',
    status: 404,
    title: 'Checkout session not found',
    from: 'billing',
    help: 'No checkout session has this id. If you paid, the subscription still arrives: check GET /api/v1/subscription in a minute.',
  },
  {
    code: 'webhook_signature_missing',
    status: 400,
    title: 'Stripe-Signature header missing',
    from: 'billing',
    help: 'Webhooks must come from Stripe (or `stripe listen`), which signs them in the Stripe-Signature header.',
  },
  {
    code: 'webhook_signature_invalid',
    status: 400,
    title: 'Webhook signature not valid',
    from: 'billing',
    help: 'The signature does not match: STRIPE_WEBHOOK_SECRET must be the signing secret of the endpoint (or of `stripe listen`) that sends these events.',
  },
  {
    code: 'webhook_payload_invalid',
    status: 400,
    title: 'Webhook payload not valid',
    from: 'billing',
    help: 'The webhook body is not a Stripe event.',
  },
  {
    code: 'stripe_unavailable',
    status: 502,
    title: 'Stripe did not answer',
    from: 'billing',
    help: 'The payment provider did not complete the request. Try again in a moment; nothing was charged twice (requests are idempotent).',
  },
  // --- gateway ----------------------------------------------------------------
  {
    code: 'internal_api_forbidden',
    status: 403,
    title: 'Forbidden',
    from: 'gateway',
    help: "The services' internal API (/internal) is for service-to-service calls and is never reachable through the gateway.",
  },
  {
    code: 'upstream_unavailable',
    status: 502,
    title: 'Bad gateway',
    from: 'gateway',
    help: "The service behind this path did not answer (starting, restarting or down). Try again in a few seconds; operators: check the service's health at /health/ready.",
  },
  // --- added with the security and reliability work (issue 8, 9) ---------------
  {
    code: 'account_disabled',
    status: 403,
    title: 'Account disabled',
    from: 'auth',
    help: 'An administrator disabled this account: it cannot log in or refresh tokens, and its sessions were ended. Ask an administrator to enable it again (POST /v1/users/{id}/enable).',
  },
  {
    code: 'own_account',
    status: 409,
    title: 'Not on your own account',
    from: 'auth',
    help: 'An administrator cannot disable or delete the account they are logged in with, so that an installation never loses its last administrator by mistake. Use another admin account.',
  },
  {
    code: 'temporarily_unavailable',
    status: 503,
    title: 'Temporarily unavailable',
    from: 'auth',
    help: 'A store this request needs (Redis, for the login lockout) is not answering. Nothing was changed; try again after the number of seconds in Retry-After.',
  },
  {
    code: 'revocation_unavailable',
    status: 503,
    title: 'Token revocation cannot be checked',
    from: 'auth, billing',
    help: 'The service cannot tell right now whether your session was ended (its revocation store is unavailable or being rebuilt), so it refuses rather than trust a token that may be revoked. Try again after the seconds in Retry-After.',
  },
  {
    code: 'checkout_in_progress',
    status: 409,
    title: 'A checkout is already being started',
    from: 'billing',
    help: 'Another checkout of yours is being started at this moment (a double click, a second tab). Wait a second and ask again: you will get the same checkout page back, never a second subscription.',
  },
  {
    code: 'auth_unavailable',
    status: 502,
    title: 'The account service did not answer',
    from: 'billing',
    help: 'Billing needed your current account details from the auth service and it did not answer. Nothing was created; try again shortly.',
  },
];

const BY_CODE = new Map(PROBLEM_CATALOGUE.map((doc) => [doc.code, doc]));

export function problemDoc(code: string): ProblemDoc | undefined {
  return BY_CODE.get(code);
}
