/**
 * Feature checks from the verified access token's `ent` claim: no network
 * call, so a resource service can gate every request on a feature. The claim
 * is as fresh as the token, and never fresher than allowed: when the user's
 * entitlements shrink, tokens carrying the older set are refused by the
 * verifier (`entitlements_changed`) within a second.
 */
import { ProblemError } from '@tollgate/service-kit';
import type { AccessTokenClaims } from './claims.js';

/** The claims of a verified token, wherever the service keeps them on the request. */
export type ClaimsOf<R> = (request: R) => Pick<AccessTokenClaims, 'ent'> | undefined;

/** A feature's value in the claims: `true`, a numeric limit, or undefined when not entitled. */
export function limitOf(
  claims: Pick<AccessTokenClaims, 'ent'> | undefined,
  feature: string,
): true | number | undefined {
  const features = claims?.ent?.f;
  if (!features || !Object.hasOwn(features, feature)) return undefined;
  return features[feature];
}

/** Whether the claims grant the feature at all (a limit of 0 does not). */
export function hasFeature(claims: Pick<AccessTokenClaims, 'ent'> | undefined, feature: string): boolean {
  const value = limitOf(claims, feature);
  return value === true || (typeof value === 'number' && value > 0);
}

export function featureRequiredProblem(feature: string): ProblemError {
  return new ProblemError(
    403,
    'feature_required',
    'Feature required',
    `your plan does not include "${feature}"`,
    { feature },
  );
}

/** Where tollgate's services keep a verified token's claims: `request.user`. */
export function claimsOnUser(request: unknown): Pick<AccessTokenClaims, 'ent'> | undefined {
  return (request as { user?: Pick<AccessTokenClaims, 'ent'> }).user;
}

/**
 * A Fastify preHandler (or any hook of that shape) that answers 403
 * `feature_required` unless the request's verified token grants `feature`.
 * Put it after the hook that verifies the token; `claimsOf` says where that
 * hook left the claims (default `request.user`). A request with no verified
 * token at all is also refused: the route forgot to authenticate.
 */
export function requireFeature<R = unknown>(feature: string, claimsOf: ClaimsOf<R> = claimsOnUser) {
  return async function requireFeaturePreHandler(request: R): Promise<void> {
    if (!hasFeature(claimsOf(request), feature)) throw featureRequiredProblem(feature);
  };
}
