import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ServiceClients } from '../../../domain/service-clients/service-clients.js';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import type { LoginHistoryRepository } from '../../../domain/users/login-history.repository.js';
import type { Profiles } from '../../../domain/users/profiles.js';
import { Problems } from '../../../errors.js';
import type { Guards } from '../../../plugins/authenticate.js';
import { bearerSecurity, Email, Login, Password, problems, TokenPair, UserView } from '../../schemas.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  serviceClients: ServiceClients;
  guards: Guards;
  profiles: Profiles;
  loginHistory: LoginHistoryRepository;
  rateLimitPerMinute: number;
  /** register and PATCH /me: both tell whether a login or email is taken, so they get a tight limit. */
  accountRateLimitPerHour: number;
}

const MeView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String(),
  email: Type.String(),
  roles: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

const SessionView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of the token making this request' }),
});

const LoginAttemptView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  success: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, options) => {
  const { auth, guards } = options;
  const rateLimit = { max: options.rateLimitPerMinute, timeWindow: '1 minute' };
  const accountRateLimit = { max: options.accountRateLimitPerHour, timeWindow: '1 hour' };
  const client = (request: { ip: string; headers: Record<string, unknown> }) => ({
    ip: request.ip,
    userAgent:
      typeof request.headers['user-agent'] === 'string'
        ? request.headers['user-agent'].slice(0, 512)
        : undefined,
  });

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
    async (request, reply) => {
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
    async (request) => auth.login(request.body, client(request)),
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
    async (request) => auth.refresh(request.body.refresh_token, client(request)),
  );

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
    async (request, reply) => {
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
    async (request, reply) => {
      await auth.logoutAll(request.user!.sub);
      return reply.code(204).send(null);
    },
  );

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
    async (request) => options.profiles.get(request.user!.sub),
  );

  app.patch(
    '/me',
    {
      preHandler: guards.requireUser,
      config: { rateLimit: accountRateLimit },
      schema: {
        tags: ['auth'],
        summary:
          'Change login, email or password (each needs current_password; a password change ends the other sessions)',
        description:
          'Wrong current_password answers count into the login lockout of the account (429 account_locked). Rate limited per client address.',
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
    async (request) => {
      await auth.updateProfile(request.user!.sub, request.user!.sid, request.body, client(request));
      options.profiles.invalidate(request.user!.sub);
      return options.profiles.get(request.user!.sub);
    },
  );

  app.get(
    '/login-history',
    {
      preHandler: guards.requireUser,
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
    async (request) => {
      const { page_size, page_number } = request.query;
      const { total, rows } = await options.loginHistory.page(request.user!.sub, page_size, page_number);
      const totalPages = Math.ceil(total / page_size);
      return {
        data: rows.map((r) => ({
          id: r.id,
          success: r.success,
          reason: r.reason,
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

  app.get(
    '/sessions',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Open sessions of this user',
        security: bearerSecurity,
        response: { 200: Type.Object({ data: Type.Array(SessionView) }), ...problems(401) },
      },
    },
    async (request) => {
      const sessions = await auth.listSessions(request.user!.sub);
      return {
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
    async (request, reply) => {
      await auth.revokeSession(request.user!.sub, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/token',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary:
          'OAuth 2.0 client-credentials grant for services (form or JSON body; client secret in the body or HTTP Basic)',
        security: [{ clientBasic: [] }],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: Type.Object(
          {
            grant_type: Type.String(),
            client_id: Type.Optional(Type.String({ maxLength: 256 })),
            client_secret: Type.Optional(Type.String({ maxLength: 512 })),
            scope: Type.Optional(Type.String({ maxLength: 1024 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            access_token: Type.String(),
            token_type: Type.Literal('Bearer'),
            expires_in: Type.Integer(),
            scope: Type.String(),
          }),
          ...problems(400, 401, 429),
        },
      },
    },
    async (request, reply) => {
      const { grant_type, scope } = request.body;
      if (grant_type !== 'client_credentials') {
        throw Problems.unsupportedGrantType('only grant_type=client_credentials is supported here');
      }
      let { client_id: clientId, client_secret: clientSecret } = request.body;
      const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
      if (basic?.[1]) {
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) {
          try {
            // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
            clientId = decodeURIComponent(decoded.slice(0, colon));
            clientSecret = decodeURIComponent(decoded.slice(colon + 1));
          } catch {
            throw Problems.invalidClient('the Basic credentials are not valid percent-encoding');
          }
        }
      }
      if (!clientId || !clientSecret)
        throw Problems.invalidClient('client_id and client_secret are required');
      reply.header('cache-control', 'no-store');
      return options.serviceClients.issueToken(clientId, clientSecret, scope);
    },
  );
};
