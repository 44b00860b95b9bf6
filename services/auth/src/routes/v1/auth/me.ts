/** The current user: read it, change login, email or password. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import type { Profiles } from '../../../domain/users/profiles.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, Email, Login, Password, problems } from '../../schemas.js';
import { clientInfo, type RouteRateLimit } from './client-info.js';

export interface MeOptions {
  auth: AuthService;
  guards: Guards;
  profiles: Profiles;
  accountRateLimit: RouteRateLimit;
}

export const MeView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String(),
  email: Type.String(),
  email_verified: Type.Boolean(),
  roles: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

export const meRoutes: FastifyPluginAsyncTypebox<MeOptions> = async (app, options) => {
  const { auth, guards, profiles } = options;

  app.get(
    '/me',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'The current user',
        security: bearerSecurity,
        response: { 200: MeView, ...problems(401, 404) },
      },
    },
    async function getMe(request) {
      return profiles.get(request.user!.sub);
    },
  );

  app.patch(
    '/me',
    {
      preHandler: guards.requireUser,
      config: { rateLimit: options.accountRateLimit },
      schema: {
        tags: ['auth'],
        summary:
          'Change login, email or password (each needs current_password; a password change ends the other sessions)',
        description:
          'A new email takes effect once confirmed: a link goes to the new address (POST /v1/auth/email/verify with its token) and a notice to the old one; until then `email` stays as it was. Wrong current_password answers count into the login lockout of the account (429 account_locked). Rate limited per client address.',
        security: bearerSecurity,
        body: Type.Object(
          {
            login: Type.Optional(Login),
            email: Type.Optional(Email),
            password: Type.Optional(Password),
            current_password: Type.Optional(Password),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: MeView, ...problems(400, 401, 403, 409, 429) },
      },
    },
    async function updateMe(request) {
      await auth.updateProfile(request.user!.sub, request.user!.sid, request.body, clientInfo(request));
      profiles.invalidate(request.user!.sub);
      return profiles.get(request.user!.sub);
    },
  );
};
