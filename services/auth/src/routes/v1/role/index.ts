import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RolesService } from '../../../domain/roles/roles.service.js';
import { ADMIN_ROLE } from '../../../domain/roles/roles.service.js';
import { Problems } from '../../../errors.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, Login, problems } from '../../schemas.js';

export interface RoleRoutesOptions {
  roles: RolesService;
  guards: Guards;
  /** Called after any change to roles or grants (clears cached profiles). */
  onRolesChanged: () => void;
}

const RoleName = Type.String({ pattern: '^[a-z][a-z0-9_-]{1,63}$', examples: ['subscriber'] });
const RoleView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
const UserRoles = Type.Object({ login: Type.String(), roles: Type.Array(Type.String()) });
const GrantBody = Type.Object({ login: Login, role: RoleName }, { additionalProperties: false });

export const roleRoutes: FastifyPluginAsyncTypebox<RoleRoutesOptions> = async (
  app,
  { roles, guards, onRolesChanged },
) => {
  const admin = { preHandler: guards.requireAdmin };
  // Before the answer leaves, so a client's next request sees the change.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' && reply.statusCode < 300) onRolesChanged();
    return payload;
  });
  const tags = ['roles'];

  app.get(
    '/',
    {
      ...admin,
      schema: {
        tags,
        summary: 'List roles (admin)',
        security: bearerSecurity,
        response: { 200: Type.Array(RoleView), ...problems(401, 403) },
      },
    },
    async () => roles.list(),
  );

  app.post(
    '/',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Create a role (admin)',
        security: bearerSecurity,
        body: Type.Object(
          { name: RoleName, description: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: { 201: RoleView, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await roles.create(request.body)),
  );

  app.get(
    '/user',
    {
      preHandler: guards.requireUser,
      schema: {
        tags,
        summary: "A user's roles (the user themself, or an admin)",
        security: bearerSecurity,
        querystring: Type.Object({ login: Type.Optional(Login) }, { additionalProperties: false }),
        response: { 200: UserRoles, ...problems(400, 401, 403, 404) },
      },
    },
    async function userRoles(request) {
      // The caller is their user id (`sub`), never the token's login claim:
      // a login can be renamed and then taken by someone else.
      const caller = request.user!.sub;
      const { login } = request.query;
      if (login === undefined) return roles.rolesOfUser(caller);
      const target = await roles.userIdOf(login);
      // Non-admins get the same 403 for someone else's login and for an unknown one.
      if (target !== caller && !(await roles.hasRole(caller, ADMIN_ROLE))) {
        throw Problems.forbidden("only an admin may read another user's roles");
      }
      if (target === null) throw Problems.userNotFound(`no user "${login}"`);
      return roles.rolesOfUser(target);
    },
  );

  app.post(
    '/user',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Grant a role to a user by hand (admin)',
        security: bearerSecurity,
        body: GrantBody,
        response: { 200: UserRoles, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) =>
      roles.grantManually(request.body.login, request.body.role, { actor: request.user?.sub }),
  );

  app.delete(
    '/user',
    {
      ...admin,
      schema: {
        tags,
        summary: "Revoke a user's hand-granted role (admin); grants from subscriptions stay",
        security: bearerSecurity,
        body: GrantBody,
        response: { 200: UserRoles, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) =>
      roles.revokeManually(request.body.login, request.body.role, { actor: request.user?.sub }),
  );

  app.put(
    '/:name',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Rename a role or change its description (admin)',
        security: bearerSecurity,
        params: Type.Object({ name: RoleName }),
        body: Type.Object(
          { name: Type.Optional(RoleName), description: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: RoleView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => roles.update(request.params.name, request.body),
  );

  app.delete(
    '/:name',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Delete a role and its grants (admin; built-in roles cannot be deleted)',
        security: bearerSecurity,
        params: Type.Object({ name: RoleName }),
        response: { 204: Type.Null(), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await roles.remove(request.params.name);
      return reply.code(204).send(null);
    },
  );
};
