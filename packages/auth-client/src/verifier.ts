import { ProblemError } from '@tollgate/service-kit';
import {
  createRemoteJWKSet,
  customFetch,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { type AccessTokenClaims, type ServiceTokenClaims, TOKEN_ALGORITHM, TOKEN_TYPE } from './claims.js';
import { conditionalJwksFetch } from './jwks.js';
import { type RevocationStore, RevocationUnavailableError } from './revocation.js';

export type TokenErrorCode =
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'insufficient_scope'
  | 'revocation_unavailable'
  | 'entitlements_changed';

/** Why a token was refused. `code` is stable and safe to show to clients. */
export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
    /** For `revocation_unavailable`: seconds after which asking again may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface TokenVerifierOptions {
  /**
   * Where to fetch the signing keys; fetched keys are cached and refetched
   * (conditionally, with the ETag) for unknown `kid`s and every 10 minutes.
   */
  jwksUrl?: string | URL;
  /** Alternatively, a key resolver (auth itself passes its local key set). */
  keys?: JWTVerifyGetKey;
  issuer: string;
  /** Audience of user access tokens. */
  audience: string;
  /** Audience of service (client-credentials) tokens. */
  serviceAudience?: string;
  revocation: RevocationStore;
  /** Allowed clock skew in seconds (default 5). */
  clockToleranceSeconds?: number;
  /**
   * How many verified tokens to remember (default 10,000; 0 turns it off).
   * A token is an immutable string: once its signature and claims checked
   * out, a repeat only needs its expiry and revocation checked again.
   */
  verifiedTokenCacheSize?: number;
}

export interface TokenVerifier {
  /** Verifies a user's access token, including that its session has not ended. */
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
  /** Verifies a service token and, when given, that it carries `requiredScope`. */
  verifyServiceToken(token: string, requiredScope?: string): Promise<ServiceTokenClaims>;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The `ent` claim's version, or undefined when the claim is malformed (absent counts as 0). */
function entVersion(ent: unknown): number | undefined {
  if (ent === undefined) return 0;
  if (typeof ent !== 'object' || ent === null) return undefined;
  const { v, f } = ent as { v?: unknown; f?: unknown };
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return undefined;
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return undefined;
  return v;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys =
    options.keys ??
    (options.jwksUrl
      ? createRemoteJWKSet(new URL(options.jwksUrl), {
          cooldownDuration: 5_000,
          // Longer than auth's max-age on purpose: rotations are caught by the
          // unknown-kid refetch, and a copy this old still verifies while auth is
          // unreachable (a failed refetch of a stale copy fails every token).
          cacheMaxAge: 10 * 60_000,
          [customFetch]: conditionalJwksFetch(),
        })
      : undefined);
  if (!keys) throw new Error('createTokenVerifier needs jwksUrl or keys');
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const cacheSize = options.verifiedTokenCacheSize ?? 10_000;
  const verified = new Map<string, { audience: string; payload: JWTPayload }>();

  async function verify(token: string, audience: string): Promise<JWTPayload> {
    const hit = verified.get(token);
    if (hit && hit.audience === audience) {
      if ((hit.payload.exp ?? 0) + clockTolerance > Date.now() / 1000) return hit.payload;
      verified.delete(token);
      throw new TokenError('token_expired', 'the token has expired');
    }
    const payload = await verifySignatureAndClaims(token, audience);
    if (cacheSize > 0) {
      verified.set(token, { audience, payload });
      if (verified.size > cacheSize) verified.delete(verified.keys().next().value as string);
    }
    return payload;
  }

  async function verifySignatureAndClaims(token: string, audience: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keys as JWTVerifyGetKey, {
        // Pinned: a token whose header names another algorithm (none, HS256
        // keyed with the public key, ...) is refused before any key is used.
        algorithms: [TOKEN_ALGORITHM],
        typ: TOKEN_TYPE,
        issuer: options.issuer,
        audience,
        clockTolerance,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      });
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw new TokenError('token_expired', 'the token has expired');
      throw new TokenError('token_invalid', 'the token is not valid');
    }
  }

  return {
    async verifyAccessToken(token) {
      const payload = await verify(token, options.audience);
      const { sid, sub, email, login, roles } = payload;
      const version = entVersion(payload.ent);
      if (
        typeof sid !== 'string' ||
        typeof sub !== 'string' ||
        typeof email !== 'string' ||
        typeof login !== 'string' ||
        !isStringArray(roles) ||
        version === undefined
      ) {
        throw new TokenError('token_invalid', 'the token is not a user access token');
      }
      let revoked: boolean;
      let floor: number;
      try {
        [revoked, floor] = await Promise.all([
          options.revocation.isSessionRevoked(sid),
          options.revocation.entitlementsFloor(sub),
        ]);
      } catch (error) {
        // Fail closed: a token whose session may have ended is not accepted.
        if (error instanceof RevocationUnavailableError)
          throw new TokenError(
            'revocation_unavailable',
            'whether this session has ended cannot be checked right now; try again shortly',
            error.retryAfterSeconds,
          );
        throw error;
      }
      if (revoked) throw new TokenError('token_revoked', 'the session of this token has ended');
      if (version < floor)
        throw new TokenError(
          'entitlements_changed',
          'your entitlements changed since this token was issued; refresh it (POST /v1/auth/refresh-token)',
        );
      return payload as unknown as AccessTokenClaims;
    },
    async verifyServiceToken(token, requiredScope) {
      if (!options.serviceAudience) throw new Error('serviceAudience is not configured');
      const payload = await verify(token, options.serviceAudience);
      if (typeof payload.client_id !== 'string' || typeof payload.scope !== 'string') {
        throw new TokenError('token_invalid', 'the token is not a service token');
      }
      if (requiredScope && !payload.scope.split(' ').includes(requiredScope)) {
        throw new TokenError('insufficient_scope', `the token lacks the scope ${requiredScope}`);
      }
      return payload as unknown as ServiceTokenClaims;
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * A TokenError as the problem a resource service answers with: 401, 403 for a
 * missing scope, 503 with Retry-After when revocation cannot be checked.
 */
export function tokenErrorProblem(error: unknown): ProblemError | undefined {
  if (!(error instanceof TokenError)) return undefined;
  if (error.code === 'revocation_unavailable') {
    const retryAfter = error.retryAfterSeconds ?? 1;
    return new ProblemError(
      503,
      error.code,
      'Token check unavailable',
      error.message,
      { retryAfter },
      { 'retry-after': String(retryAfter) },
    );
  }
  if (error.code === 'insufficient_scope') {
    return new ProblemError(403, error.code, 'Insufficient scope', error.message);
  }
  if (error.code === 'entitlements_changed') {
    return new ProblemError(
      401,
      error.code,
      'Entitlements changed',
      error.message,
      {},
      { 'www-authenticate': `Bearer error="invalid_token", error_description="${error.message}"` },
    );
  }
  return new ProblemError(
    401,
    error.code,
    'Token not accepted',
    error.message,
    {},
    { 'www-authenticate': `Bearer error="invalid_token", error_description="${error.message}"` },
  );
}

/** What one verification ended with: `valid`, or the TokenError code (`token_expired`, ...), or `error`. */
export type VerificationOutcome = 'valid' | string;

/**
 * The verifier, reporting each verification's kind and outcome to
 * `observe` (the services count them as a metric). Answers are unchanged.
 */
export function withVerificationObserver(
  verifier: TokenVerifier,
  observe: (kind: 'access' | 'service', outcome: VerificationOutcome) => void,
): TokenVerifier {
  function counted<T>(kind: 'access' | 'service', result: Promise<T>): Promise<T> {
    return result.then(
      (value) => {
        observe(kind, 'valid');
        return value;
      },
      (error: unknown) => {
        observe(kind, error instanceof TokenError ? error.code : 'error');
        throw error;
      },
    );
  }
  return {
    verifyAccessToken: (token) => counted('access', verifier.verifyAccessToken(token)),
    verifyServiceToken: (token, scope) => counted('service', verifier.verifyServiceToken(token, scope)),
  };
}
