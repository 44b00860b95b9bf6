import { createHash } from 'node:crypto';
import { JWKS_MAX_AGE_SECONDS } from '@tollgate/auth-client';
import type { FastifyPluginAsync } from 'fastify';
import type { SigningKeySet } from '../domain/tokens/signing-keys.js';

/** Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 13.1.2). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

export const wellKnownRoutes: FastifyPluginAsync<{ keys: SigningKeySet }> = async (app, { keys }) => {
  // The set changes only when auth restarts with other keys: one ETag per
  // process, the same on every replica that has the same keys.
  const etag = `"${createHash('sha256').update(JSON.stringify(keys.jwks)).digest('base64url').slice(0, 32)}"`;
  const cacheControl = `public, max-age=${JWKS_MAX_AGE_SECONDS}`;

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify tokens (current and previous)',
        description: `Cacheable for ${JWKS_MAX_AGE_SECONDS} s (Cache-Control) and revalidated with If-None-Match (ETag): 304 when the set has not changed. Verifiers refetch when a token names an unknown kid (a rotation).`,
        response: {
          200: {
            type: 'object',
            properties: {
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    kty: { type: 'string' },
                    crv: { type: 'string' },
                    x: { type: 'string' },
                    kid: { type: 'string' },
                    alg: { type: 'string' },
                    use: { type: 'string' },
                  },
                  required: ['kty', 'crv', 'x', 'kid', 'alg'],
                },
              },
            },
            required: ['keys'],
          },
          304: { description: 'Not modified: the key set named by If-None-Match is current', type: 'null' },
        },
      },
    },
    async (request, reply) => {
      reply.header('etag', etag).header('cache-control', cacheControl);
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return keys.jwks;
    },
  );
};
