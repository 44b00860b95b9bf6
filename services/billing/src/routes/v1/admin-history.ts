/**
 * GET /api/v1/admin/users/{id}/history: "why does this user have this?" —
 * billing's audit log merged with auth's (admin only). Admin rights come from
 * the verified token's `roles` claim: tokens live 15 minutes and ended
 * sessions are refused within a second, so a revoked admin keeps this read-only
 * view at most until their token expires.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ChangeCause } from '@tollgate/contracts';
import type { AuditLog } from '../../domain/audit/audit-log.js';
import { Problems } from '../../errors.js';
import type { PreHandler } from '../../http-guards/authenticate.js';
import { bearerSecurity, problems } from '../schemas.js';

const ADMIN_ROLE = 'admin';

const HistoryEntryView = Type.Object({
  at: Type.String({ format: 'date-time' }),
  service: Type.Union([Type.Literal('billing'), Type.Literal('auth')]),
  action: Type.String({
    description:
      'billing: role_grant, role_revoke, entitlements_changed; auth: role_granted, role_revoked, entitlements_changed',
  }),
  role: Type.Union([Type.String(), Type.Null()]),
  subscription_id: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  cause: Type.Union([ChangeCause, Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export interface AdminHistoryRoutesOptions {
  auditLog: Pick<AuditLog, 'historyOf'>;
  requireUser: PreHandler;
}

export const adminHistoryRoutes: FastifyPluginAsyncTypebox<AdminHistoryRoutesOptions> = async (
  app,
  { auditLog, requireUser },
) => {
  const requireAdmin: PreHandler = async (request) => {
    await requireUser(request);
    if (!request.user?.roles.includes(ADMIN_ROLE)) throw Problems.forbidden('this needs the admin role');
  };

  app.get(
    '/admin/users/:id/history',
    {
      preHandler: requireAdmin,
      schema: {
        tags: ['billing'],
        summary:
          'Why a user has what they have: every grant, revoke and entitlement change with its cause, from billing and auth, newest first (admin)',
        security: bearerSecurity,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(HistoryEntryView),
            auth_included: Type.Boolean({
              description: "false when auth did not answer: data then holds billing's side only",
            }),
          }),
          ...problems(400, 401, 403),
        },
      },
    },
    async function userHistory(request) {
      const history = await auditLog.historyOf(request.params.id, request.query.limit);
      if (!history.auth_included)
        request.log.warn({ userId: request.params.id }, "history without auth's side: auth did not answer");
      return history;
    },
  );
};
