/**
 * Auth's side of a user's audit history (never routed by the gateway):
 * billing merges it into GET /api/v1/admin/users/{id}/history.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuthHistoryPage,
  InternalUserParams,
  SCOPE_ROLES_WRITE,
  UserHistoryQuery,
} from '@tollgate/contracts';
import type { AuditRepository } from '../../domain/audit/audit.repository.js';
import type { Guards } from '../../http-guards/authenticate.js';
import { problems } from '../schemas.js';

export interface InternalHistoryRoutesOptions {
  audit: Pick<AuditRepository, 'ofUser'>;
  guards: Guards;
}

export const internalHistoryRoutes: FastifyPluginAsyncTypebox<InternalHistoryRoutesOptions> = async (
  app,
  { audit, guards },
) => {
  app.get(
    '/users/:userId/history',
    {
      preHandler: guards.requireServiceScope(SCOPE_ROLES_WRITE),
      schema: {
        tags: ['internal'],
        summary: `A user's role grants, revokes and entitlement changes, newest first (service token with scope ${SCOPE_ROLES_WRITE})`,
        security: [{ bearerAuth: [] }],
        params: InternalUserParams,
        querystring: UserHistoryQuery,
        response: { 200: AuthHistoryPage, ...problems(400, 401, 403) },
      },
    },
    async function userHistory(request) {
      return { data: await audit.ofUser(request.params.userId, request.query.limit) };
    },
  );
};
