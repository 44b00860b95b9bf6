/**
 * buildApp(config, deps?) assembles the billing service: infrastructure, the
 * domain (src/context.ts), routes and OpenAPI. It never listens and never
 * starts workers (server.ts and worker.ts do), so tests drive it with inject.
 */
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  createFailFastRedis,
  createRedisRevocationStore,
  createTokenVerifier,
  type RevocationStore,
  redisReady,
  withRevocationCache,
} from '@tollgate/auth-client';
import { createMemoryLoginLockout, createRedisLoginLockout } from '@tollgate/login-guard';
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
} from '@tollgate/service-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createAdminActions } from './admin/actions.js';
import { createAuthAdminLogin } from './admin/auth-login.js';
import { mountAdmin } from './admin/mount.js';
import type { Config } from './config.js';
import { type Billing, type BillingDeps, createBilling } from './context.js';
import { mapError } from './errors.js';
import { createRequireUser } from './http-guards/authenticate.js';
import { queueHealthRoutes } from './routes/health/queue.js';
import { siteRoutes } from './routes/site/index.js';
import { problemPages } from './routes/site/problems.js';
import { adminHistoryRoutes } from './routes/v1/admin-history.js';
import { apiRoutes } from './routes/v1/api.js';
import { pageRoutes } from './routes/v1/pages.js';
import { webhookRoutes } from './routes/v1/webhook.js';

export interface AppDeps extends BillingDeps {
  redis?: Redis;
  /**
   * Where session revocations are read (default: Redis at REDIS_URL). `npm
   * start` without Redis passes auth's in-process store; the admin login's
   * rate limit and lockout then count in this process too.
   */
  revocation?: RevocationStore;
  /** false turns request logging off. */
  logging?: boolean;
  logStream?: { write(line: string): unknown };
}

declare module 'fastify' {
  interface FastifyInstance {
    billing: Billing;
  }
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const serverConfig = serverOptions({
    service: 'billing',
    logLevel: config.logLevel,
    trustProxy: config.trustProxy,
    logging: deps.logging,
    logStream: deps.logStream,
  });
  const app = Fastify(serverConfig).withTypeProvider<TypeBoxTypeProvider>();

  const billing = await createBilling(config, deps);
  billing.boss.on('error', (error: Error) => app.log.error({ err: error }, 'job queue error'));
  app.decorate('billing', billing);
  // Redis is only needed to read revocations; without it (an in-process store given) there is none.
  // Fail fast: while Redis is unreachable, authenticated requests get a 503
  // at once and everything else (webhooks, role syncs, pages) carries on
  // (architecture/decisions/0010-redis-faults.md).
  const redis = deps.revocation
    ? undefined
    : (deps.redis ??
      createFailFastRedis(config.redisUrl, {
        keyPrefix: config.redisKeyPrefix,
        commandTimeoutMs: config.redisCommandTimeoutMs,
      }));
  redis?.on('error', (error: Error) => app.log.warn({ err: error }, 'redis connection error'));
  app.addHook('onReady', async () => {
    if (redis) await redisReady(redis, 2_000);
  });
  app.addHook('onClose', async () => {
    await billing.close();
    if (redis && !deps.redis) redis.disconnect();
  });

  const verifier = createTokenVerifier({
    jwksUrl: `${config.auth.url}/.well-known/jwks.json`,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    revocation: withRevocationCache(
      deps.revocation ?? createRedisRevocationStore(redis!),
      config.revocationCacheMs,
    ),
  });
  const requireUser = createRequireUser(verifier);

  app.addSchema(problemSchema);
  await app.register(problemHandler, { mapError });
  await app.register(requestHygiene);
  await app.register(metricsPlugin, { registry: billing.metrics.registry, token: config.metricsToken });
  await app.register(commonProblemResponses);

  await app.register(
    swagger,
    openApiOptions({
      title: 'tollgate billing',
      description: 'Stripe customers, products, checkout, subscriptions, invoices, portal, webhooks.',
      servers: [{ url: '/' }],
      tags: [
        { name: 'billing', description: 'Subscriptions and payments' },
        { name: 'pages', description: 'HTML pages: home, the returns from Stripe, error codes' },
        { name: 'webhooks', description: 'Stripe to billing' },
      ],
    }),
  );

  await app.register(healthRoutes, {
    checks: {
      database: async () => {
        await billing.db.$queryRaw`SELECT 1`;
      },
      queue: async () => {
        if (!(await billing.boss.isInstalled())) throw new Error('pg-boss schema missing');
      },
    },
    // Reported, not required: without Redis billing still takes webhooks,
    // processes them and syncs roles; only token checks wait for it.
    degradedChecks: redis
      ? {
          redis: async () => {
            await redis.ping();
          },
        }
      : {},
  });

  await app.register(queueHealthRoutes, { billing });

  await app.register(
    async (api) => {
      await api.register(formbody, { bodyLimit: 16 * 1024, parser: formBodyParser });
      await api.register(apiRoutes, { billing, requireUser });
      await api.register(adminHistoryRoutes, { auditLog: billing.auditLog, requireUser });
      await api.register(pageRoutes, {
        checkout: billing.checkout,
        catalog: billing.catalog,
        trials: billing.plans.trials,
      });
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );
  await app.register(webhookRoutes, {
    prefix: '/api/v1',
    inbox: {
      ...billing.inbox,
      async accept(event) {
        const stored = await billing.inbox.accept(event);
        billing.metrics.webhookAccepted(event.type, stored);
        return stored;
      },
    },
  });
  // The gateway's / and /problems pages (billing has the catalogue the home page shows).
  await app.register(siteRoutes, { catalog: billing.catalog });
  await app.register(problemPages);
  await mountAdmin(app, {
    // The panel's own instance, made at the first /admin request: billing's errors and hygiene.
    createHost: async () => {
      const host = Fastify(serverConfig);
      host.addSchema(problemSchema);
      await host.register(problemHandler, { mapError });
      await host.register(requestHygiene);
      return host;
    },
    admin: {
      db: billing.db,
      login: config.admin.login,
      password: config.admin.password,
      cookieSecret: config.admin.cookieSecret,
      production: config.env === 'production',
      sessionTtlSeconds: config.admin.sessionTtlSeconds,
      loginRateLimitPerMinute: config.admin.loginRateLimitPerMinute,
      // Counted in Redis, under its own namespace, so every replica shares one count per account.
      lockout: redis
        ? createRedisLoginLockout(redis, config.admin.lockout, Date.now, 'admin-lockout')
        : createMemoryLoginLockout(config.admin.lockout),
      redis,
      actions: createAdminActions(billing),
      ...(config.admin.requireMfa
        ? {
            viaAuth: createAuthAdminLogin({
              authUrl: config.auth.url,
              timeoutMs: config.auth.timeoutMs,
              verifier,
            }),
          }
        : {}),
    },
  });

  return app;
}
