/**
 * Everything auth is made of, wired once: the HTTP app (app.ts) only adds
 * routes, guards and docs on top of it.
 */
import {
  createTokenVerifier,
  redisReady,
  type TokenVerifier,
  withRevocationCache,
  withRevocationFallback,
} from '@tollgate/auth-client';
import type { Config } from './config.js';
import { createPrismaClient, type Db } from './db/prisma.js';
import { createPasswordHasher, type PasswordHasher } from './domain/passwords/password-hasher.js';
import { createRolesService } from './domain/roles/roles.service.js';
import { createServiceClients } from './domain/service-clients/service-clients.js';
import { createAuthService } from './domain/sessions/auth.service.js';
import { createRevocationKeeper, type KeeperLog } from './domain/sessions/revocation-keeper.js';
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
import { redisState, type SharedState } from './shared-state.js';

export interface AuthContextDeps {
  db?: Db;
  /** Where revocations, lockouts and rate limits live (default: Redis at REDIS_URL). */
  state?: SharedState;
  keys?: SigningKeySet;
  hasher?: PasswordHasher;
}

/** Seconds a revocation outlives the session's last access token (verifiers allow clock skew). */
const REVOCATION_SLACK_SECONDS = 10;

export async function loadSigningKeys(config: Config): Promise<SigningKeySet> {
  const jwks = config.jwt.signingKeys
    ? parseSigningKeysEnv(config.jwt.signingKeys)
    : await loadOrCreateDevKeys(config.jwt.keysDir);
  return keySetFromJwks(jwks);
}

export async function createAuthContext(config: Config, log: KeeperLog, deps: AuthContextDeps = {}) {
  const db = deps.db ?? createPrismaClient(config.databaseUrl, config.databasePoolMax);
  const state = deps.state ?? redisState(config);
  // ioredis reconnects by itself; log its errors instead of crashing on them.
  state.redis?.on('error', (error: Error) => log.warn({ err: error }, 'redis connection error'));
  const revocations = createRevocationsRepository(db);
  const keeper = createRevocationKeeper({
    revocations,
    cache: state.revocation,
    log,
    intervalMs: config.revocationRepairIntervalMs,
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
  const verifier: TokenVerifier = createTokenVerifier({
    keys: keys.resolver,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    serviceAudience: config.jwt.serviceAudience,
    revocation,
  });
  const users = createUsersRepository(db);
  const loginHistory = createLoginHistoryRepository(db);
  const roles = createRolesService(db, users);
  const sessions = createSessionsRepository(db, {
    revocationWindowSeconds: config.jwt.accessTtlSeconds + REVOCATION_SLACK_SECONDS,
  });
  const auth = createAuthService({
    users,
    sessions,
    revocations,
    onPublishFailed: async (error, sessionIds) => {
      log.warn(
        { err: error, sessions: sessionIds.length },
        'sessions ended but their revocation is not in Redis yet; the revocation keeper will publish it',
      );
      // Until it is published, verifiers must not trust a cache without it:
      // they fall back to the database (auth) or refuse (others).
      await state.revocation.invalidate().catch(() => {});
    },
    loginHistory,
    hasher,
    lockout: state.lockout,
    tokens,
    revocation,
    accessTtlSeconds: config.jwt.accessTtlSeconds,
    refreshTtlSeconds: config.jwt.refreshTtlSeconds,
    revocationSlackSeconds: REVOCATION_SLACK_SECONDS,
  });
  const serviceClients = createServiceClients(config.serviceClients, tokens);
  const profiles = createProfiles(users);
  const userAdmin = createUserAdmin({ users, endSessions: auth.endSessions });

  return {
    config,
    db,
    state,
    keys,
    hasher,
    revocations,
    revocation,
    tokens,
    verifier,
    users,
    loginHistory,
    roles,
    sessions,
    auth,
    serviceClients,
    profiles,
    userAdmin,
    /** Starts the background work (the revocation keeper). */
    async start() {
      // Start with Redis down if need be, but not fail the first requests only
      // because the connection was still being made.
      if (state.redis) await redisReady(state.redis, 2_000);
      await keeper.start();
    },
    /** Stops the background work and closes what this context opened. */
    async close() {
      await keeper.stop();
      if (!deps.db) await db.$disconnect();
      if (!deps.state) await state.close();
    },
  };
}

export type AuthContext = Awaited<ReturnType<typeof createAuthContext>>;
