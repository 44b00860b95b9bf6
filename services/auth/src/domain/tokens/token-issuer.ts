import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type EntitlementsClaim, TOKEN_ALGORITHM, TOKEN_TYPE } from '@tollgate/auth-client';
import { SignJWT } from 'jose';
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
}

export function createTokenIssuer(options: TokenIssuerOptions) {
  const now = options.now ?? (() => Date.now());

  async function sign(claims: Record<string, unknown>, subject: string, audience: string, ttl: number) {
    const jti = randomUUID();
    const iat = Math.floor(now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: options.keys.current.kid, typ: TOKEN_TYPE })
      .setIssuer(options.issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(options.keys.current.key);
    return { token, jti, expiresIn: ttl };
  }

  return {
    issueAccessToken(subject: AccessTokenSubject): Promise<IssuedToken> {
      return sign(
        {
          sid: subject.sessionId,
          email: subject.email,
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
