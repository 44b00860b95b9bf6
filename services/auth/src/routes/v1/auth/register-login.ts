/** Creating an account, logging in and refreshing the token pair. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import { Email, Login, Password, problems, TokenPair, UserView } from '../../schemas.js';
import { clientInfo, type RouteRateLimit } from './client-info.js';

export interface RegisterLoginOptions {
  auth: AuthService;
  rateLimit: RouteRateLimit;
  accountRateLimit: RouteRateLimit;
}

export const registerLoginRoutes: FastifyPluginAsyncTypebox<RegisterLoginOptions> = async (app, options) => {
  const { auth, rateLimit, accountRateLimit } = options;

  app.post(
    '/register',
    {
      config: { rateLimit: accountRateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Create an account',
        body: Type.Object(
          { login: Login, password: Password, email: Email },
          { additionalProperties: false },
        ),
        response: { 201: UserView, ...problems(400, 409, 413, 429) },
      },
    },
    async function register(request, reply) {
      const user = await auth.register(request.body);
      return reply.code(201).send({ id: user.id, login: user.login, email: user.email });
    },
  );

  app.post(
    '/login',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Log in with login (or email) and password; starts a session',
        body: Type.Object(
          { login: Type.String({ minLength: 1, maxLength: 254 }), password: Password },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair, ...problems(400, 401, 413, 429) },
      },
    },
    async function login(request) {
      return auth.login(request.body, clientInfo(request));
    },
  );

  app.post(
    '/refresh-token',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new pair (the old refresh token stops working)',
        body: Type.Object(
          { refresh_token: Type.String({ minLength: 1, maxLength: 512 }) },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair, ...problems(400, 401, 429) },
      },
    },
    async function refreshToken(request) {
      return auth.refresh(request.body.refresh_token, clientInfo(request));
    },
  );
};
