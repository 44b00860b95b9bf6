import type { FastifyPluginAsync } from 'fastify';
import type { SigningKeySet } from '../domain/tokens/signing-keys.js';

export const wellKnownRoutes: FastifyPluginAsync<{ keys: SigningKeySet }> = async (app, { keys }) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['auth'],
        summary: 'Public keys that verify tokens (current and previous)',
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
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return keys.jwks;
    },
  );
};
