/**
 * buildApp(config, deps?) wires the auth service's HTTP side: the domain
 * (src/context.ts), guards, rate limits, routes and docs. It never listens (server.ts does), so tests
 * drive it with app.inject.
 */
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createRedisBreaker, isRedisUnavailableError, tokenErrorProblem } from '@tollgate/auth-client';
import {
  commonProblemResponses,
  formBodyParser,
  healthRoutes,
  metricsPlugin,
  openApiOptions,
  problemHandler,
  problemSchema,
  requestHygiene,
  serverOptions,
  swaggerUiBranding,
} from '@tollgate/service-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { type AuthContext, type AuthContextDeps, createAuthContext } from './context.js';
import { Problems } from './errors.js';
import { createGuards } from './http-guards/authenticate.js';
import { redisWithLocalFallback } from './http-guards/rate-limit-store.js';
import { internalEntitlementsRoutes } from './routes/internal/entitlements.js';
import { internalHistoryRoutes } from './routes/internal/history.js';
import { internalGrantListRoutes, internalRoleRoutes } from './routes/internal/user-roles.js';
import { internalUserRoutes } from './routes/internal/users.js';
import { authRoutes } from './routes/v1/auth/index.js';
import { roleRoutes } from './routes/v1/role/index.js';
import { userRoutes } from './routes/v1/users/index.js';
import { wellKnownRoutes } from './routes/well-known.js';

export { loadSigningKeys } from './context.js';

export interface AppDeps extends AuthContextDeps {
  /** false turns request logging off. */
  logging?: boolean;
  /** Where log lines go instead of stdout (redaction still applies). */
  logStream?: { write(line: string): unknown };
}

declare module 'fastify' {
  interface FastifyInstance {
    authContext: AuthContext;
  }
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify(
    serverOptions({
      service: 'auth',
      logLevel: config.logLevel,
      trustProxy: config.trustProxy,
      logging: deps.logging,
      logStream: deps.logStream,
    }),
  ).withTypeProvider<TypeBoxTypeProvider>();

  const context = await createAuthContext(config, app.log, deps);
  app.decorate('authContext', context);
  app.addHook('onReady', context.start);
  app.addHook('onClose', context.close);
  const { db, state, keys, roles, profiles } = context;
  const guards = createGuards(context.verifier, roles, {
    required: config.admin.requireMfa,
    hasSecondFactor: async (userId) =>
      (await context.totp.isEnabled(userId)) || (await context.passkeys.count(userId)) > 0,
  });

  app.addSchema(problemSchema);
  await app.register(problemHandler, {
    // A Redis failure on a path that needs Redis (the login lockout) is a
    // short 503 with Retry-After, not a 500 (architecture/decisions/0010-redis-faults.md).
    mapError: (error) =>
      tokenErrorProblem(error) ??
      (isRedisUnavailableError(error)
        ? Problems.temporarilyUnavailable('a store this request needs is unreachable; try again shortly')
        : undefined),
  });
  await app.register(requestHygiene);
  await app.register(metricsPlugin, { registry: context.metrics.registry, token: config.metricsToken });
  await app.register(commonProblemResponses);
  await app.register(formbody, { bodyLimit: 64 * 1024, parser: formBodyParser });
  await app.register(rateLimit, {
    global: false,
    // Counters in Redis, shared by the replicas; in this process while Redis
    // is unavailable, and always when there is no Redis at all.
    ...(state.redis ? { store: redisWithLocalFallback(state.redis, createRedisBreaker()) } : {}),
    nameSpace: 'rate-limit:',
    skipOnError: true,
    errorResponseBuilder: (_request, context) => Problems.rateLimited(Math.ceil(context.ttl / 1000)),
  });

  await app.register(
    swagger,
    openApiOptions({
      title: 'tollgate auth',
      description: 'Registration, login, JWT access and refresh tokens, sessions, roles.',
      securitySchemes: { clientBasic: { type: 'http', scheme: 'basic' } },
      tags: [
        { name: 'auth', description: 'Accounts, login and tokens' },
        { name: 'roles', description: 'Roles and grants' },
        { name: 'users', description: 'Disabling, enabling and deleting accounts (admin)' },
      ],
    }),
  );
  await app.register(swaggerUi, {
    routePrefix: '/swagger',
    ...swaggerUiBranding(),
    uiConfig: {
      urls: [{ name: 'auth', url: '/swagger/json' }, ...config.swaggerDocuments],
      deepLinking: true,
    },
  });

  await app.register(healthRoutes, {
    checks: {
      database: async () => {
        await db.$queryRaw`SELECT 1`;
      },
    },
    // Reported, but not a reason to take auth out of rotation: without Redis
    // it still verifies tokens (from Postgres), issues service tokens and
    // serves the internal role API; every replica shares the same Redis anyway.
    degradedChecks: state.redis ? { redis: () => state.ping() } : {},
  });
  await app.register(wellKnownRoutes, { keys });
  await app.register(authRoutes, {
    prefix: '/v1/auth',
    auth: context.auth,
    serviceClients: context.serviceClients,
    guards,
    profiles,
    loginHistory: context.loginHistory,
    accountEmails: context.accountEmails,
    totp: context.totp,
    passkeys: context.passkeys,
    mfaTickets: context.mfaTickets,
    rateLimitPerMinute: config.rateLimitPerMinute,
    accountRateLimitPerHour: config.accountRateLimitPerHour,
    oidc: context.oidc,
    publicBaseUrl: config.oidc.publicBaseUrl,
  });
  await app.register(roleRoutes, { prefix: '/v1/role', roles, guards, onRolesChanged: profiles.clear });
  await app.register(userRoutes, {
    prefix: '/v1/users',
    userAdmin: context.userAdmin,
    guards,
    onUserChanged: (userId) => profiles.invalidate(userId),
  });
  await app.register(internalUserRoutes, { prefix: '/internal/v1', users: context.users, guards });
  await app.register(internalRoleRoutes, {
    prefix: '/internal/v1',
    roles,
    guards,
    onRolesChanged: profiles.clear,
  });
  await app.register(internalEntitlementsRoutes, {
    prefix: '/internal/v1',
    entitlements: context.entitlements,
    guards,
  });
  await app.register(internalHistoryRoutes, { prefix: '/internal/v1', audit: context.audit, guards });
  await app.register(internalGrantListRoutes, {
    prefix: '/internal/v1',
    roles,
    guards,
    onRolesChanged: profiles.clear,
  });

  return app;
}
