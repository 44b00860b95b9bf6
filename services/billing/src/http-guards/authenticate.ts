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
