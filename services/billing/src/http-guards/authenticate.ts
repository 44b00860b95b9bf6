/** Bearer user tokens, verified locally from auth's JWKS with session revocation (@tollgate/auth-client). */
import { type AccessTokenClaims, bearerToken, type TokenVerifier } from '@tollgate/auth-client';
import type { FastifyRequest } from 'fastify';
import { Problems } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    user?: AccessTokenClaims;
  }
}

export type PreHandler = (request: FastifyRequest) => Promise<void>;

export function createRequireUser(verifier: TokenVerifier): PreHandler {
  return async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (!token)
      throw Problems.authenticationRequired(
        'send an access token in the "Authorization: Bearer <token>" header',
      );
    request.user = await verifier.verifyAccessToken(token);
  };
}

/**
 * The signed-in user (after the preHandler ran): their id only. The token's
 * email and login claims may be out of date; billing asks auth for those.
 */
export function userOf(request: FastifyRequest) {
  const claims = request.user as AccessTokenClaims;
  return { id: claims.sub };
}

/**
 * Checkout needs a verified email when the deployment says so
 * (REQUIRE_VERIFIED_EMAIL). Read from the token: it is at most one access
 * token old, and verifying then logging in again (or refreshing) carries it.
 */
export function createRequireVerifiedEmail(required: boolean): PreHandler {
  return async (request) => {
    if (!required) return;
    if ((request.user as AccessTokenClaims).email_verified !== true)
      throw Problems.emailNotVerified(
        'verify your email address first (the link in the verification mail; POST /v1/auth/email/resend sends another), then refresh your token',
      );
  };
}
