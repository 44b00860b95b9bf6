/** Admin actions on accounts: disable, enable, delete (`/v1/users/{id}`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { UserAdmin } from '../../../domain/users/user-admin.service.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, problems } from '../../schemas.js';

export interface UserRoutesOptions {
  userAdmin: UserAdmin;
  guards: Guards;
  /** Called after a user changed (drops their cached profile). */
  onUserChanged: (userId: string) => void;
}

const Params = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (
  app,
  { userAdmin, guards, onUserChanged },
) => {
  const tags = ['users'];

  app.post(
    '/:id/disable',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags,
        summary: 'Disable a user (admin): ends all their sessions; they cannot log in or refresh',
        description:
          "Every service rejects the user's access tokens within a second (token_revoked); login and refresh answer 403 account_disabled.",
        security: bearerSecurity,
        params: Params,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async function disableUser(request, reply) {
      await userAdmin.disable(request.user!.sub, request.params.id);
      onUserChanged(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/:id/enable',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags,
        summary: 'Enable a disabled user again (admin); they log in afresh',
        security: bearerSecurity,
        params: Params,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404) },
      },
    },
    async function enableUser(request, reply) {
      await userAdmin.enable(request.params.id);
      onUserChanged(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/:id',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags,
        summary: 'Delete a user (admin): ends their sessions, removes their roles and login history',
        description: "Billing keeps the user's customer, subscriptions and invoices.",
        security: bearerSecurity,
        params: Params,
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async function deleteUser(request, reply) {
      await userAdmin.remove(request.user!.sub, request.params.id);
      onUserChanged(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
