/**
 * The internal role API billing calls (never routed by the gateway).
 * Idempotent: grants are keyed by (user, role, source), so retries are safe.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  Grant,
  GrantListQuery,
  GrantPage,
  GrantRoleBody,
  RevokeRoleBody,
  RoleGrantParams,
  SCOPE_ROLES_WRITE,
} from '@tollgate/contracts';
import { ProblemError } from '@tollgate/service-kit';
import type { RolesService } from '../../domain/roles/roles.service.js';
import type { Guards } from '../../http-guards/authenticate.js';
import { problems } from '../schemas.js';

export interface InternalRoleRoutesOptions {
  roles: RolesService;
  guards: Guards;
  /** Called after any grant or revoke (clears cached profiles). */
  onRolesChanged: () => void;
}

export const internalRoleRoutes: FastifyPluginAsyncTypebox<InternalRoleRoutesOptions> = async (
  app,
  { roles, guards, onRolesChanged },
) => {
  // Before the answer leaves, so a client's next request sees the change.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode < 300) onRolesChanged();
    return payload;
  });
  const preHandler = guards.requireServiceScope(SCOPE_ROLES_WRITE);
  const security = [{ bearerAuth: [] }];

  app.put(
    '/users/:userId/roles/:role',
    {
      preHandler,
      schema: {
        tags: ['internal'],
        summary: `Grant a role from a source (service token with scope ${SCOPE_ROLES_WRITE}); 201 when new, 200 when it existed`,
        security,
        params: RoleGrantParams,
        body: GrantRoleBody,
        response: { 200: Grant, 201: Grant, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { userId, role } = request.params;
      const expiresAt = request.body.expires_at ? new Date(request.body.expires_at) : null;
      const { created, grant } = await roles.grantFromSource(userId, role, request.body.source, expiresAt, {
        actor: request.serviceClient?.client_id,
        cause: request.body.cause,
      });
      return reply.code(created ? 201 : 200).send({
        user_id: userId,
        role,
        source: grant.source,
        expires_at: grant.expiresAt?.toISOString() ?? null,
      });
    },
  );

  app.delete(
    '/users/:userId/roles/:role',
    {
      preHandler,
      schema: {
        tags: ['internal'],
        summary: "Revoke one source's grant of a role (idempotent; other sources' grants stay)",
        security,
        params: RoleGrantParams,
        body: RevokeRoleBody,
        response: { 204: Type.Null(), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      await roles.revokeFromSource(request.params.userId, request.params.role, request.body.source, {
        actor: request.serviceClient?.client_id,
        cause: request.body.cause,
      });
      return reply.code(204).send(null);
    },
  );
};

function encodeCursor(grant: { userId: string; role: string; source: string }): string {
  return Buffer.from(JSON.stringify([grant.userId, grant.role, grant.source])).toString('base64url');
}

function decodeCursor(cursor: string): { userId: string; role: string; source: string } {
  try {
    const [userId, role, source] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as string[];
    if (typeof userId === 'string' && typeof role === 'string' && typeof source === 'string')
      return { userId, role, source };
  } catch {}
  throw new ProblemError(400, 'invalid_cursor', 'Invalid cursor', 'cursor is not one this API handed out');
}

/** Read side of the internal API: lets a service compare the grants it owns with what it expects. */
export const internalGrantListRoutes: FastifyPluginAsyncTypebox<InternalRoleRoutesOptions> = async (
  app,
  { roles, guards },
) => {
  app.get(
    '/grants',
    {
      preHandler: guards.requireServiceScope(SCOPE_ROLES_WRITE),
      schema: {
        tags: ['internal'],
        summary: 'Grants whose source starts with source_prefix, a page at a time (for reconciliation)',
        security: [{ bearerAuth: [] }],
        querystring: GrantListQuery,
        response: { 200: GrantPage, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { source_prefix, limit, cursor } = request.query;
      const { grants, hasMore } = await roles.listGrants(
        source_prefix,
        limit,
        cursor ? decodeCursor(cursor) : undefined,
      );
      const last = grants.at(-1);
      return {
        data: grants.map((g) => ({
          user_id: g.user_id,
          role: g.role,
          source: g.source,
          expires_at: g.expires_at?.toISOString() ?? null,
        })),
        has_more: hasMore,
        next_cursor:
          hasMore && last
            ? encodeCursor({ userId: last.user_id, role: last.role, source: last.source })
            : null,
      };
    },
  );
};
