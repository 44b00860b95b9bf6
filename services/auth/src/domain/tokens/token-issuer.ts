import { createHash, randomBytes, randomUUID, sign as signEd25519 } from 'node:crypto';
import { type EntitlementsClaim, TOKEN_ALGORITHM, TOKEN_TYPE } from '@tollgate/auth-client';
import type { SigningKeySet } from './signing-keys.js';

export interface TokenIssuerOptions {
  keys: SigningKeySet;
  issuer: string;
  audience: string;
  serviceAudience: string;
  accessTtlSeconds: number;
  serviceTtlSeconds: number;
  now?: () => number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  email: string;
  login: string;
  roles: string[];
  /** The user's entitlements (domain/tokens/ent-claim.ts). */
  ent: EntitlementsClaim;
  /** Whether the owner proved they read mail at `email` (billing may require it). */
  emailVerified: boolean;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function createTokenIssuer(options: TokenIssuerOptions) {
  const now = options.now ?? (() => Date.now());
  // Signed here with node:crypto, synchronously (an Ed25519 signature takes
  // tens of microseconds), not with jose's SignJWT: that goes through
  // WebCrypto, whose jobs run on libuv's thread pool, where a login's
  // signature waited behind every argon2 hash queued before it (about 0.7 s
  // with the pool busy, bench/auth). Tokens are verified with jose, as before.
  const key = options.keys.current.privateKey;
  const header = base64url({ alg: TOKEN_ALGORITHM, kid: options.keys.current.kid, typ: TOKEN_TYPE });

  async function sign(claims: Record<string, unknown>, subject: string, audience: string, ttl: number) {
    const jti = randomUUID();
    const iat = Math.floor(now() / 1000);
    const payload = base64url({
      ...claims,
      iss: options.issuer,
      aud: audience,
      sub: subject,
      jti,
      iat,
      exp: iat + ttl,
    });
    const signature = signEd25519(null, Buffer.from(`${header}.${payload}`), key).toString('base64url');
    return { token: `${header}.${payload}.${signature}`, jti, expiresIn: ttl };
  }

  return {
    issueAccessToken(subject: AccessTokenSubject): Promise<IssuedToken> {
      return sign(
        {
          sid: subject.sessionId,
          email: subject.email,
          email_verified: subject.emailVerified,
          login: subject.login,
          roles: subject.roles,
          ent: subject.ent,
        },
        subject.userId,
        options.audience,
        options.accessTtlSeconds,
      );
    },
    issueServiceToken(clientId: string, scopes: string[]): Promise<IssuedToken> {
      return sign(
        { client_id: clientId, scope: scopes.join(' ') },
        clientId,
        options.serviceAudience,
        options.serviceTtlSeconds,
      );
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;

/** A new opaque refresh token (256 random bits) and the hash that is stored instead of it. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
