/** The user's sessions: list them, end one, this one, or all. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, problems } from '../../schemas.js';

export interface SessionRoutesOptions {
  auth: AuthService;
  guards: Guards;
}

/** One page of GET /sessions: a response stays small however many sessions a user opened. */
const SESSIONS_LIST_DEFAULT = 50;
const SESSIONS_LIST_MAX = 200;

const SessionView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of the token making this request' }),
});

export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = async (app, options) => {
  const { auth, guards } = options;

  app.post(
    '/logout',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'End this session',
        security: bearerSecurity,
        response: { 204: Type.Null(), ...problems(401) },
      },
    },
    async function logout(request, reply) {
      await auth.logout(request.user!.sub, request.user!.sid);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/logout-all',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'End every session of this user',
        security: bearerSecurity,
        response: { 204: Type.Null(), ...problems(401) },
      },
    },
    async function logoutAll(request, reply) {
      await auth.logoutAll(request.user!.sub);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/sessions',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Open sessions of this user, the most recently used first',
        security: bearerSecurity,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: SESSIONS_LIST_MAX, default: SESSIONS_LIST_DEFAULT }),
        }),
        response: {
          200: Type.Object({
            data: Type.Array(SessionView),
            /** More sessions are open than `limit`: end some, or ask for more. */
            has_more: Type.Boolean(),
          }),
          ...problems(400, 401),
        },
      },
    },
    async function listSessions(request) {
      const { sessions, hasMore } = await auth.listSessions(request.user!.sub, request.query.limit);
      return {
        has_more: hasMore,
        data: sessions.map((s) => ({
          id: s.id,
          created_at: s.createdAt.toISOString(),
          last_used_at: s.lastUsedAt.toISOString(),
          expires_at: s.expiresAt.toISOString(),
          ip: s.ip,
          user_agent: s.userAgent,
          current: s.id === request.user!.sid,
        })),
      };
    },
  );

  app.delete(
    '/sessions/:id',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: "End one of this user's sessions",
        security: bearerSecurity,
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...problems(400, 401, 404) },
      },
    },
    async function endSession(request, reply) {
      await auth.revokeSession(request.user!.sub, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
