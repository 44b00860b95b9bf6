/** The OAuth 2.0 client-credentials grant: services get their tokens here. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { clientCredentials } from '../../../domain/service-clients/basic-credentials.js';
import type { ServiceClients } from '../../../domain/service-clients/service-clients.js';
import { Problems } from '../../../errors.js';
import { problems } from '../../schemas.js';
import type { RouteRateLimit } from './client-info.js';

export interface TokenRoutesOptions {
  serviceClients: ServiceClients;
  rateLimit: RouteRateLimit;
}

export const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, options) => {
  app.post(
    '/token',
    {
      config: { rateLimit: options.rateLimit },
      schema: {
        tags: ['auth'],
        summary:
          'OAuth 2.0 client-credentials grant for services (form or JSON body; client secret in the body or HTTP Basic)',
        security: [{ clientBasic: [] }],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: Type.Object(
          {
            grant_type: Type.String(),
            client_id: Type.Optional(Type.String({ maxLength: 256 })),
            client_secret: Type.Optional(Type.String({ maxLength: 512 })),
            scope: Type.Optional(Type.String({ maxLength: 1024 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            access_token: Type.String(),
            token_type: Type.Literal('Bearer'),
            expires_in: Type.Integer(),
            scope: Type.String(),
          }),
          ...problems(400, 401, 429),
        },
      },
    },
    async function issueServiceToken(request, reply) {
      if (request.body.grant_type !== 'client_credentials') {
        throw Problems.unsupportedGrantType('only grant_type=client_credentials is supported here');
      }
      const { clientId, clientSecret } = clientCredentials(request.headers.authorization, request.body);
      reply.header('cache-control', 'no-store');
      return options.serviceClients.issueToken(clientId, clientSecret, request.body.scope);
    },
  );
};
