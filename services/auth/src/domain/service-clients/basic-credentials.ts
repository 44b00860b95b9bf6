/**
 * Client credentials sent with HTTP Basic (RFC 6749 2.3.1): both parts are
 * form-urlencoded, then joined with ":" and base64-encoded.
 */
import { Problems } from '../../errors.js';

export interface ClientCredentials {
  clientId?: string;
  clientSecret?: string;
}

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)$/i;

/**
 * The client id and secret of a Basic Authorization header; undefined when
 * the header is absent, not Basic, or has no "id:secret" pair (the body's
 * credentials apply then).
 */
export function parseBasicCredentials(authorization: string | undefined): ClientCredentials | undefined {
  const basic = BASIC.exec(authorization ?? '');
  if (!basic?.[1]) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      clientSecret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  } catch {
    throw Problems.invalidClient('the Basic credentials are not valid percent-encoding');
  }
}

/** Basic credentials win over the body's, as the header is the form RFC 6749 recommends. */
export function clientCredentials(
  authorization: string | undefined,
  body: { client_id?: string; client_secret?: string },
): { clientId: string; clientSecret: string } {
  const basic = parseBasicCredentials(authorization);
  const clientId = basic?.clientId ?? body.client_id;
  const clientSecret = basic?.clientSecret ?? body.client_secret;
  if (!clientId || !clientSecret) throw Problems.invalidClient('client_id and client_secret are required');
  return { clientId, clientSecret };
}
