/**
 * GET /api/v1/entitlements and GET /api/v1/entitlements/{feature}: what the
 * signed-in user may use, as billing last derived it (the union over live
 * subscriptions and one-time purchases; see domain/entitlements).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EntitlementsReader } from '../../domain/entitlements/user-entitlements.js';
import { type PreHandler, userOf } from '../../http-guards/authenticate.js';
import { bearerSecurity, EntitlementCheckView, EntitlementsView, problems } from '../schemas.js';

export interface EntitlementRoutesOptions {
  entitlements: EntitlementsReader;
  requireUser: PreHandler;
}

export const entitlementRoutes: FastifyPluginAsyncTypebox<EntitlementRoutesOptions> = async (
  app,
  { entitlements, requireUser },
) => {
  app.get(
    '/entitlements',
    {
      preHandler: requireUser,
      schema: {
        tags: ['billing'],
        summary: "The user's features and limits, roles, version and what grants them",
        description:
          'features: `true` for a boolean feature, a number for a limit (the highest over every source). ' +
          '`version` grows by one with every change (auth holds the same number in the token).',
        security: bearerSecurity,
        response: { 200: EntitlementsView, ...problems(401) },
      },
    },
    async function getEntitlements(request) {
      const { features, roles, version, sources } = await entitlements.forUser(userOf(request).id);
      return { features, roles, version, source: sources };
    },
  );

  app.get(
    '/entitlements/:feature',
    {
      preHandler: requireUser,
      schema: {
        tags: ['billing'],
        summary: 'Quick check of one feature: allowed, and its limit (null: boolean feature)',
        security: bearerSecurity,
        params: Type.Object({ feature: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: EntitlementCheckView, ...problems(401) },
      },
    },
    async function checkEntitlement(request) {
      return entitlements.check(userOf(request).id, request.params.feature);
    },
  );
};
