/**
 * Internal user lookup (never routed by the gateway): a service that needs a
 * user's current email or login asks here instead of trusting the claims of
 * an access token, which are as old as the token.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SCOPE_ROLES_WRITE } from '@tollgate/auth-client';
import { InternalUser, InternalUserParams } from '@tollgate/contracts';
import type { UsersRepository } from '../../domain/users/users.repository.js';
import { Problems } from '../../errors.js';
import type { Guards } from '../../http-guards/authenticate.js';
import { problems } from '../schemas.js';

export interface InternalUserRoutesOptions {
  users: Pick<UsersRepository, 'findById'>;
  guards: Guards;
}

export const internalUserRoutes: FastifyPluginAsyncTypebox<InternalUserRoutesOptions> = async (
  app,
  { users, guards },
) => {
  app.get(
    '/users/:userId',
    {
      // The role-writing scope: a client that may grant any role to any user
      // may certainly read a user's email; a narrower scope would protect nothing.
      preHandler: guards.requireServiceScope(SCOPE_ROLES_WRITE),
      schema: {
        tags: ['internal'],
        summary: `A user's current login and email (service token with scope ${SCOPE_ROLES_WRITE})`,
        security: [{ bearerAuth: [] }],
        params: InternalUserParams,
        response: { 200: InternalUser, ...problems(400, 401, 403, 404) },
      },
    },
    async function internalUser(request) {
      const user = await users.findById(request.params.userId);
      if (!user) throw Problems.userNotFound(`no user ${request.params.userId}`);
      return { id: user.id, login: user.login, email: user.email, disabled: user.disabledAt !== null };
    },
  );
};
