/**
 * The OAuth 2.0 client-credentials grant for services (billing calls auth's
 * internal API with such a token). Clients come from configuration.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServiceClient } from '../../config.js';
import { Problems } from '../../errors.js';
import type { TokenIssuer } from '../tokens/token-issuer.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createServiceClients(clients: ServiceClient[], tokens: TokenIssuer) {
  // Compare digests: equal lengths make timingSafeEqual usable and the
  // comparison take the same time whatever the secret's length.
  const known = new Map(clients.map((c) => [c.id, { ...c, secretDigest: digest(c.secret) }]));
  const unknownDigest = digest('no-such-client');

  return {
    async issueToken(clientId: string, clientSecret: string, requestedScope?: string) {
      const client = known.get(clientId);
      const matches = timingSafeEqual(client?.secretDigest ?? unknownDigest, digest(clientSecret));
      if (!client || !matches) throw Problems.invalidClient('unknown client or wrong secret');
      const requested = requestedScope ? requestedScope.split(' ').filter(Boolean) : client.scopes;
      const denied = requested.filter((s) => !client.scopes.includes(s));
      if (denied.length > 0)
        throw Problems.invalidScope(`scope not allowed for this client: ${denied.join(' ')}`);
      const token = await tokens.issueServiceToken(client.id, requested);
      return {
        access_token: token.token,
        token_type: 'Bearer' as const,
        expires_in: token.expiresIn,
        scope: requested.join(' '),
      };
    },
  };
}

export type ServiceClients = ReturnType<typeof createServiceClients>;
