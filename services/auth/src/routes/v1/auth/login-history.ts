/** The account's login attempts, a page at a time. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { LoginHistoryRepository } from '../../../domain/users/login-history.repository.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, problems } from '../../schemas.js';

export interface LoginHistoryOptions {
  guards: Guards;
  loginHistory: LoginHistoryRepository;
}

const LoginAttemptView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  success: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  /** The OpenID provider the login went through; null for a password login. */
  provider: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

export const loginHistoryRoutes: FastifyPluginAsyncTypebox<LoginHistoryOptions> = async (app, options) => {
  app.get(
    '/login-history',
    {
      preHandler: options.guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Successful and failed logins to this account, newest first',
        security: bearerSecurity,
        querystring: Type.Object(
          {
            page_size: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
            // Bounded: (page_number - 1) * page_size becomes the query's OFFSET.
            page_number: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(LoginAttemptView),
            has_next: Type.Boolean(),
            has_prev: Type.Boolean(),
            total_pages: Type.Integer(),
            total_items: Type.Integer(),
            page_size: Type.Integer(),
            current_page: Type.Integer(),
          }),
          ...problems(400, 401),
        },
      },
    },
    async function loginHistoryPage(request) {
      const { page_size, page_number } = request.query;
      const { total, rows } = await options.loginHistory.page(request.user!.sub, page_size, page_number);
      const totalPages = Math.ceil(total / page_size);
      return {
        data: rows.map((r) => ({
          id: r.id,
          success: r.success,
          reason: r.reason,
          provider: r.provider,
          ip: r.ip,
          user_agent: r.userAgent,
          created_at: r.createdAt.toISOString(),
        })),
        has_next: page_number < totalPages,
        has_prev: page_number > 1,
        total_pages: totalPages,
        total_items: total,
        page_size,
        current_page: page_number,
      };
    },
  );
};
