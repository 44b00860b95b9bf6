/**
 * The billing service's error catalogue: every problem it answers with, by
 * stable code. Domain code throws these; the problem handler renders them.
 */
import { tokenErrorProblem } from '@tollgate/auth-client';
import { defineProblem, ProblemError } from '@tollgate/service-kit';

const problem = defineProblem;

export const Problems = {
  authenticationRequired: problem(401, 'authentication_required', 'Authentication required'),
  priceNotFound: problem(404, 'price_not_found', 'Price not found'),
  priceNotRecurring: problem(400, 'price_not_recurring', 'Price is not a subscription price'),
  customerNotFound: problem(404, 'customer_not_found', 'No billing customer'),
  subscriptionNotFound: problem(404, 'subscription_not_found', 'No subscription'),
  subscriptionExists: problem(409, 'subscription_exists', 'Already subscribed'),
  subscriptionNotCanceling: problem(409, 'subscription_not_canceling', 'Subscription is not set to cancel'),
  subscriptionEnded: problem(409, 'subscription_ended', 'Subscription has ended'),
  samePrice: problem(409, 'same_price', 'Already on this plan'),
  alreadyPurchased: problem(409, 'already_purchased', 'Already purchased'),
  promotionCodeNotFound: problem(404, 'promotion_code_not_found', 'Promotion code not found'),
  planChangeNotFound: problem(404, 'plan_change_not_found', 'No pending plan change'),
  basePlanRequired: problem(409, 'base_plan_required', 'An add-on needs a plan'),
  notABasePlan: problem(400, 'not_a_base_plan', 'Not a plan'),
  emailNotVerified: problem(403, 'email_not_verified', 'Email not verified'),
  checkoutInProgress: problem(409, 'checkout_in_progress', 'A checkout is already being started'),
  checkoutSessionNotFound: problem(404, 'checkout_session_not_found', 'Checkout session not found'),
  webhookSignatureMissing: problem(400, 'webhook_signature_missing', 'Stripe-Signature header missing'),
  webhookSignatureInvalid: problem(400, 'webhook_signature_invalid', 'Webhook signature not valid'),
  webhookPayloadInvalid: problem(400, 'webhook_payload_invalid', 'Webhook payload not valid'),
  stripeUnavailable: problem(502, 'stripe_unavailable', 'Stripe did not answer'),
  crossOriginRejected: problem(403, 'cross_origin_rejected', 'Request from another origin'),
  csrfTokenInvalid: problem(403, 'csrf_token_invalid', 'Missing or wrong CSRF token'),
  adminActionForbidden: problem(403, 'admin_action_forbidden', 'Action not allowed'),
  rateLimited: (retryAfterSeconds: number) =>
    new ProblemError(
      429,
      'rate_limited',
      'Too many requests',
      `Rate limit exceeded; retry in ${retryAfterSeconds} s.`,
      { retryAfter: retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  authUnavailable: problem(502, 'auth_unavailable', 'The account service did not answer'),
  userNotFound: problem(404, 'user_not_found', 'User not found'),
  forbidden: problem(403, 'forbidden', 'Forbidden'),
};

/** Token errors from @tollgate/auth-client and Stripe API errors, as problems. */
export function mapError(error: unknown): ProblemError | undefined {
  const token = tokenErrorProblem(error);
  if (token) return token;
  // @fastify/csrf-protection's own errors (admin panel).
  const code = (error as { code?: string })?.code;
  if (code === 'FST_CSRF_INVALID_TOKEN' || code === 'FST_CSRF_MISSING_SECRET')
    return Problems.csrfTokenInvalid('send the x-csrf-token of this admin session');
  const stripeError = error as { type?: string; statusCode?: number; message?: string };
  if (typeof stripeError?.type === 'string' && stripeError.type.startsWith('Stripe')) {
    // Stripe's own message can name internals; the log has the whole error.
    return Problems.stripeUnavailable('the payment provider did not complete the request; try again');
  }
  return undefined;
}
