/** The contract between auth (which issues tokens) and every service that verifies them. */

/** The only signature algorithm tokens are signed or accepted with. */
export const TOKEN_ALGORITHM = 'EdDSA';

/** JWT header `typ` of every token auth issues (RFC 9068). */
export const TOKEN_TYPE = 'at+jwt';

/** Claims of a user's access token. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** User id. */
  sub: string;
  /** Session id: ending the session revokes the token. */
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  email: string;
  /** Whether the user proved they read mail at `email`; absent in tokens issued before auth knew (treat as false). */
  email_verified?: boolean;
  login: string;
  roles: string[];
  /**
   * The user's entitlements when the token was issued (absent in tokens
   * issued before entitlements existed: treated as version 0, no features).
   */
  ent?: EntitlementsClaim;
}

/**
 * The compact `ent` claim: `v` the entitlements version auth held, `f` the
 * features (key -> true, or a numeric limit). A token whose `v` is below the
 * user's floor (set when entitlements shrank) is refused with
 * `entitlements_changed`; refreshing gives a token with the current set.
 */
export interface EntitlementsClaim {
  v: number;
  f: Record<string, true | number>;
}

/** Claims of a service's client-credentials token. */
export interface ServiceTokenClaims {
  iss: string;
  aud: string;
  /** The client id. */
  sub: string;
  client_id: string;
  /** Space-separated scopes (RFC 8693 `scope`). */
  scope: string;
  jti: string;
  iat: number;
  exp: number;
}

/** Scope a service needs to call auth's internal role API (defined with that API's contract). */
export { SCOPE_ROLES_WRITE } from '@tollgate/contracts';
