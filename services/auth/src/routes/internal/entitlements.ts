/**
 * Billing's entitlement pushes (never routed by the gateway). Idempotent and
 * reorder-safe: auth keeps the highest version it was given and answers 204
 * either way, so billing's outbox can retry freely.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { EntitlementsSyncBody, EntitlementsSyncParams, SCOPE_ROLES_WRITE } from '@tollgate/contracts';
import type { EntitlementsService } from '../../domain/entitlements/entitlements.service.js';
import type { Guards } from '../../http-guards/authenticate.js';
import { problems } from '../schemas.js';

export interface InternalEntitlementsRoutesOptions {
  entitlements: Pick<EntitlementsService, 'push'>;
  guards: Guards;
}

export const internalEntitlementsRoutes: FastifyPluginAsyncTypebox<
  InternalEntitlementsRoutesOptions
> = async (app, { entitlements, guards }) => {
  app.put(
    '/users/:userId/entitlements',
    {
      // The same scope as role grants: entitlements are what roles were, finer.
      preHandler: guards.requireServiceScope(SCOPE_ROLES_WRITE),
      schema: {
        tags: ['internal'],
        summary: `Set a user's entitlements (service token with scope ${SCOPE_ROLES_WRITE}); a version <= the one held changes nothing`,
        security: [{ bearerAuth: [] }],
        params: EntitlementsSyncParams,
        body: EntitlementsSyncBody,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404) },
      },
    },
    async function pushEntitlements(request, reply) {
      const result = await entitlements.push(
        request.params.userId,
        request.body,
        request.serviceClient?.client_id ?? 'unknown',
      );
      request.log.info(
        { userId: request.params.userId, version: request.body.version, result },
        'entitlements push',
      );
      return reply.code(204).send(null);
    },
  );
};
