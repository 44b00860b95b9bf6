/**
 * How verifiers fetch auth's JWKS. Auth answers it with an ETag and a short
 * Cache-Control max-age; a verifier refetches when a token names a key it
 * does not know (a rotation) and when its copy is older than its cache age,
 * and every such refetch is a conditional request: a 304 of a few hundred
 * bytes instead of the key set, when nothing changed.
 */
import type { FetchImplementation } from 'jose';

/**
 * How long a fetched key set may be used without asking again (auth's
 * Cache-Control max-age). Short because a rotation signs with the new key as
 * soon as auth restarts: a verifier that only trusts max-age (and does not
 * refetch on an unknown `kid`, as this package does) rejects new tokens for
 * at most this long. Removing a key is never urgent in the same way: the
 * rotation procedure keeps the old key for an access-token lifetime.
 */
export const JWKS_MAX_AGE_SECONDS = 60;

/**
 * A fetch for jose's createRemoteJWKSet that remembers the last key set and
 * its ETag, sends If-None-Match, and turns a 304 back into that key set.
 */
export function conditionalJwksFetch(fetchImpl: typeof fetch = fetch): FetchImplementation {
  let last: { etag: string; body: string } | undefined;
  return async (url, options) => {
    const headers = new Headers(options.headers);
    if (last) headers.set('if-none-match', last.etag);
    const response = await fetchImpl(url, { ...options, headers });
    if (response.status === 304 && last) {
      return new Response(last.body, { status: 200, headers: { 'content-type': 'application/json' } });
    }
    if (response.status !== 200) return response;
    const body = await response.text();
    const etag = response.headers.get('etag');
    last = etag ? { etag, body } : undefined;
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
}
