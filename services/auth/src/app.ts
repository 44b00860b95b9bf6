/**
 * buildApp(config, deps?) assembles the auth service: infrastructure,
 * domain services, routes, docs. It never listens (server.ts does), so tests
 * drive it with app.inject.
 */
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  createRedisBreaker,
  createTokenVerifier,
  isRedisUnavailableError,
  redisReady,
  tokenErrorProblem,
  withRevocationCache,
  withRevocationFallback,
} from '@tollgate/auth-client';
import {
  API_INTRO,
  commonProblemResponses,
  formBodyParser,
  healthRoutes,
  hidePrivateRoutes,
  metricsPlugin,
  openApiRefResolver,
  problemHandler,
  problemSchema,
  requestHygiene,
  serverOptions,
  swaggerUiBranding,
} from '@tollgate/service-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createPrismaClient, type Db } from './db/prisma.js';
import { createPasswordHasher, type PasswordHasher } from './domain/passwords/password-hasher.js';
import { createRolesService } from './domain/roles/roles.service.js';
import { createServiceClients } from './domain/service-clients/service-clients.js';
import { createAuthService } from './domain/sessions/auth.service.js';
import { createRevocationKeeper } from './domain/sessions/revocation-keeper.js';
import { createRevocationsRepository } from './domain/sessions/revocations.repository.js';
import { createSessionsRepository } from './domain/sessions/sessions.repository.js';
import {
  keySetFromJwks,
  loadOrCreateDevKeys,
  parseSigningKeysEnv,
  type SigningKeySet,
} from './domain/tokens/signing-keys.js';
import { createTokenIssuer } from './domain/tokens/token-issuer.js';
import { createLoginHistoryRepository } from './domain/users/login-history.repository.js';
import { createProfiles } from './domain/users/profiles.js';
import { createUserAdmin } from './domain/users/user-admin.service.js';
import { createUsersRepository } from './domain/users/users.repository.js';
import { Problems } from './errors.js';
import { type AuthMetrics, createAuthMetrics } from './metrics.js';
import { createGuards } from './plugins/authenticate.js';
import { redisWithLocalFallback } from './plugins/rate-limit-store.js';
import { internalGrantListRoutes, internalRoleRoutes } from './routes/internal/user-roles.js';
import { internalUserRoutes } from './routes/internal/users.js';
import { authRoutes } from './routes/v1/auth/index.js';
import { roleRoutes } from './routes/v1/role/index.js';
import { userRoutes } from './routes/v1/users/index.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { redisState, type SharedState } from './shared-state.js';

export interface AppDeps {
  db?: Db;
  /** Where revocations, lockouts and rate limits live (default: Redis at REDIS_URL). */
  state?: SharedState;
  keys?: SigningKeySet;
  hasher?: PasswordHasher;
  /** false turns request logging off. */
  logging?: boolean;
  /** Where log lines go instead of stdout (redaction still applies). */
  logStream?: { write(line: string): unknown };
  /** The app's metrics (default: a registry of its own, served at /metrics). */
  metrics?: AuthMetrics;
}

/** Seconds a revocation outlives the session's last access token (verifiers allow clock skew). */
const REVOCATION_SLACK_SECONDS = 10;

export async function loadSigningKeys(config: Config): Promise<SigningKeySet> {
  const jwks = config.jwt.signingKeys
    ? parseSigningKeysEnv(config.jwt.signingKeys)
    : await loadOrCreateDevKeys(config.jwt.keysDir);
  return keySetFromJwks(jwks);
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

  const db = deps.db ?? createPrismaClient(config.databaseUrl, config.databasePoolMax);
  const metrics = deps.metrics ?? createAuthMetrics();
  const state = deps.state ?? redisState(config);
  // ioredis reconnects by itself; log its errors instead of crashing on them.
  state.redis?.on('error', (error: Error) => app.log.warn({ err: error }, 'redis connection error'));
  const revocations = createRevocationsRepository(db);
  const keeper = createRevocationKeeper({
    revocations,
    cache: state.revocation,
    log: app.log,
    intervalMs: config.revocationRepairIntervalMs,
  });
  const ownsDb = !deps.db;
  app.addHook('onReady', async () => {
    // Start with Redis down if need be, but not fail the first requests only
    // because the connection was still being made.
    if (state.redis) await redisReady(state.redis, 2_000);
    await keeper.start();
  });
  app.addHook('onClose', async () => {
    await keeper.stop();
    if (ownsDb) await db.$disconnect();
    if (!deps.state) await state.close();
  });

  const keys = deps.keys ?? (await loadSigningKeys(config));
  const hasher = deps.hasher ?? (await createPasswordHasher());
  // Postgres is the record of ended sessions; when Redis cannot answer (down,
  // or emptied and not rebuilt yet) auth asks its database instead of refusing.
  const revocation = withRevocationCache(
    withRevocationFallback(state.revocation, revocations.isSessionEnded),
    config.revocationCacheMs,
  );
  const tokens = createTokenIssuer({
    keys,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    serviceAudience: config.jwt.serviceAudience,
    accessTtlSeconds: config.jwt.accessTtlSeconds,
    serviceTtlSeconds: config.jwt.serviceTtlSeconds,
  });
  const verifier = metrics.instrumentVerifier(
    createTokenVerifier({
      keys: keys.resolver,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      serviceAudience: config.jwt.serviceAudience,
      revocation,
    }),
  );
  const users = createUsersRepository(db);
  const loginHistory = createLoginHistoryRepository(db);
  const roles = createRolesService(db, users);
  const auth = metrics.instrumentAuth(
    createAuthService({
      users,
      sessions: createSessionsRepository(db, {
        revocationWindowSeconds: config.jwt.accessTtlSeconds + REVOCATION_SLACK_SECONDS,
      }),
      revocations,
      onPublishFailed: async (error, sessionIds) => {
        app.log.warn(
          { err: error, sessions: sessionIds.length },
          'sessions ended but their revocation is not in Redis yet; the revocation keeper will publish it',
        );
        // Until it is published, verifiers must not trust a cache without it:
        // they fall back to the database (auth) or refuse (others).
        await state.revocation.invalidate().catch(() => {});
      },
      loginHistory,
      hasher,
      lockout: metrics.instrumentLockout(state.lockout),
      tokens,
      revocation,
      accessTtlSeconds: config.jwt.accessTtlSeconds,
      refreshTtlSeconds: config.jwt.refreshTtlSeconds,
      revocationSlackSeconds: REVOCATION_SLACK_SECONDS,
    }),
  );
  const serviceClients = createServiceClients(config.serviceClients, tokens);
  const guards = createGuards(verifier, roles);
  const profiles = createProfiles(users);
  const userAdmin = createUserAdmin({ users, endSessions: auth.endSessions });

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
  await app.register(metricsPlugin, { registry: metrics.registry, token: config.metricsToken });
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

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tollgate auth',
        version: '1.0.0',
        description: `Registration, login, JWT access and refresh tokens, sessions, roles.\n\n${API_INTRO}`,
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          clientBasic: { type: 'http', scheme: 'basic' },
        },
      },
      tags: [
        { name: 'auth', description: 'Accounts, login and tokens' },
        { name: 'roles', description: 'Roles and grants' },
        { name: 'users', description: 'Disabling, enabling and deleting accounts (admin)' },
      ],
    },
    // The internal API and the probes are not reachable through the gateway.
    transform: hidePrivateRoutes,
    refResolver: openApiRefResolver,
  });
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
    auth,
    serviceClients,
    guards,
    profiles,
    loginHistory,
    rateLimitPerMinute: config.rateLimitPerMinute,
    accountRateLimitPerHour: config.accountRateLimitPerHour,
  });
  await app.register(roleRoutes, { prefix: '/v1/role', roles, guards, onRolesChanged: profiles.clear });
  await app.register(userRoutes, {
    prefix: '/v1/users',
    userAdmin,
    guards,
    onUserChanged: (userId) => profiles.invalidate(userId),
  });
  await app.register(internalUserRoutes, { prefix: '/internal/v1', users, guards });
  await app.register(internalRoleRoutes, {
    prefix: '/internal/v1',
    roles,
    guards,
    onRolesChanged: profiles.clear,
  });
  await app.register(internalGrantListRoutes, {
    prefix: '/internal/v1',
    roles,
    guards,
    onRolesChanged: profiles.clear,
  });

  return app;
}
