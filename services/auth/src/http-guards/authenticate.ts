/**
 * Bearer-token checks for routes, built on @tollgate/auth-client so auth
 * verifies its own tokens exactly as every other service does.
 */
import {
  type AccessTokenClaims,
  bearerToken,
  type ServiceTokenClaims,
  type TokenVerifier,
} from '@tollgate/auth-client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RolesService } from '../domain/roles/roles.service.js';
import { ADMIN_ROLE } from '../domain/roles/roles.service.js';
import { Problems } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    user?: AccessTokenClaims;
    serviceClient?: ServiceTokenClaims;
  }
}

export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

function tokenOf(request: FastifyRequest): string {
  const token = bearerToken(request.headers.authorization);
  if (!token)
    throw Problems.authenticationRequired(
      'send an access token in the "Authorization: Bearer <token>" header',
    );
  return token;
}

export interface AdminMfaPolicy {
  /** ADMIN_REQUIRE_MFA: admin routes need the admin to have a second factor. */
  required: boolean;
  /** Whether the user has TOTP on or a passkey. */
  hasSecondFactor(userId: string): Promise<boolean>;
}

export function createGuards(verifier: TokenVerifier, roles: RolesService, adminMfa?: AdminMfaPolicy) {
  const requireUser: PreHandler = async (request) => {
    request.user = await verifier.verifyAccessToken(tokenOf(request));
  };

  // Admin rights are checked against the database, not the token's `roles`
  // claim, so revoking admin takes effect at once rather than at token expiry.
  const requireAdmin: PreHandler = async (request, reply) => {
    await requireUser(request, reply);
    if (!(await roles.hasRole(request.user!.sub, ADMIN_ROLE)))
      throw Problems.forbidden('this needs the admin role');
    if (adminMfa?.required && !(await adminMfa.hasSecondFactor(request.user!.sub)))
      throw Problems.mfaSetupRequired(
        'this deployment requires admins to have a second factor: set up TOTP (POST /v1/auth/mfa/totp/setup) or add a passkey, then log in again',
      );
  };

  const requireServiceScope =
    (scope: string): PreHandler =>
    async (request) => {
      request.serviceClient = await verifier.verifyServiceToken(tokenOf(request), scope);
    };

  return { requireUser, requireAdmin, requireServiceScope };
}

export type Guards = ReturnType<typeof createGuards>;
