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
import { createAuditRepository } from './domain/audit/audit.repository.js';
import { createAccountEmails } from './domain/email/account-emails.service.js';
import { createEmailTokensRepository } from './domain/email/email-tokens.repository.js';
import { createMailer, type Mailer } from './domain/email/mailer.js';
import { createEntitlementsRepository } from './domain/entitlements/entitlements.repository.js';
import { createEntitlementsService } from './domain/entitlements/entitlements.service.js';
import { createPasskeyService } from './domain/mfa/passkeys.service.js';
import { createSecretCipher } from './domain/mfa/secret-cipher.js';
import { createMfaTickets, createTotpService } from './domain/mfa/totp.service.js';
import { createOidcRepository } from './domain/oidc/oidc.repository.js';
import { createOidcService } from './domain/oidc/oidc.service.js';
import { createOidcProviders } from './domain/oidc/providers.js';
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
import { type AuthMetrics, createAuthMetrics } from './metrics.js';
import { redisState, type SharedState } from './shared-state.js';

export interface AuthContextDeps {
  db?: Db;
  /** Where revocations, lockouts and rate limits live (default: Redis at REDIS_URL). */
  state?: SharedState;
  keys?: SigningKeySet;
  hasher?: PasswordHasher;
  /** The metrics (default: a registry of this context's own, served at /metrics by the app). */
  metrics?: AuthMetrics;
  /** Where account mail goes (default: SMTP at SMTP_URL, or nowhere). */
  mailer?: Mailer;
  /** First retry of a failed provider discovery (ms); it doubles up to a minute. */
  oidcFirstRetryMs?: number;
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
  const entitlementsRepository = createEntitlementsRepository(db);
  const keeper = createRevocationKeeper({
    revocations,
    floors: entitlementsRepository,
    cache: state.revocation,
    log,
    intervalMs: config.revocationRepairIntervalMs,
  });

  const keys = deps.keys ?? (await loadSigningKeys(config));
  const hasher = deps.hasher ?? (await createPasswordHasher());
  // Postgres is the record of ended sessions; when Redis cannot answer (down,
  // or emptied and not rebuilt yet) auth asks its database instead of refusing.
  const revocation = withRevocationCache(
    withRevocationFallback(state.revocation, {
      isSessionEnded: revocations.isSessionEnded,
      entitlementsFloor: (userId) => entitlementsRepository.floorOf(userId),
    }),
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
  // The domain is not changed to count: the verifier, the service and the lockout are wrapped.
  const metrics = deps.metrics ?? createAuthMetrics();
  const verifier: TokenVerifier = metrics.instrumentVerifier(
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
  const sessions = createSessionsRepository(db, {
    revocationWindowSeconds: config.jwt.accessTtlSeconds + REVOCATION_SLACK_SECONDS,
  });
  const mailer = deps.mailer ?? createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, log });
  const profiles = createProfiles(users);
  // Built before the auth service and handed endSessions lazily: a reset ends
  // sessions, and registration sends the verification mail.
  const accountEmails = createAccountEmails({
    users,
    tokens: createEmailTokensRepository(db),
    mailer,
    hasher,
    endSessions: (userId, filter, reason) => auth.endSessions(userId, filter, reason),
    onUserChanged: (userId) => profiles.invalidate(userId),
    publicUrl: config.mail.publicUrl,
    log,
  });
  const totp = createTotpService(db, Date.now, createSecretCipher(config.totpEncryptionKey));
  const mfaTickets = createMfaTickets(db);
  const passkeys = createPasskeyService(db, config.webauthn);
  const auth = metrics.instrumentAuth(
    createAuthService({
      users,
      entitlements: entitlementsRepository,
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
      lockout: metrics.instrumentLockout(state.lockout),
      tokens,
      revocation,
      accessTtlSeconds: config.jwt.accessTtlSeconds,
      refreshTtlSeconds: config.jwt.refreshTtlSeconds,
      revocationSlackSeconds: REVOCATION_SLACK_SECONDS,
      onRegistered: accountEmails.sendVerification,
      requestEmailChange: accountEmails.requestEmailChange,
      mfa: { totp, tickets: mfaTickets, passkeys },
    }),
  );
  const serviceClients = createServiceClients(config.serviceClients, tokens);
  const userAdmin = createUserAdmin({ users, endSessions: auth.endSessions });
  const entitlements = createEntitlementsService({
    entitlements: entitlementsRepository,
    userExists: async (userId) => (await users.findById(userId)) !== null,
    revocation,
    onPublishFailed: async (error, userId) => {
      log.warn(
        { err: error, userId },
        'entitlements shrank but the floor is not in Redis yet; the revocation keeper will publish it',
      );
      // As for revocations: verifiers must not trust a cache without it.
      await state.revocation.invalidate().catch(() => {});
    },
    floorTtlSeconds: config.jwt.accessTtlSeconds + REVOCATION_SLACK_SECONDS,
  });
  const audit = createAuditRepository(db);
  const oidcProviders = createOidcProviders(config.oidc.providers, {
    log,
    firstRetryMs: deps.oidcFirstRetryMs,
  });
  const oidc = createOidcService({
    providers: oidcProviders,
    repository: createOidcRepository(db),
    users,
    auth,
    config: config.oidc,
    // A provider's verified email links only to an account whose own email is verified too:
    // an unverified address may belong to someone who merely typed it at sign-up.
    isAccountEmailVerified: (user) => user.emailVerifiedAt !== null,
    log,
  });

  return {
    config,
    db,
    metrics,
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
    entitlements,
    audit,
    mailer,
    accountEmails,
    totp,
    mfaTickets,
    passkeys,
    oidc,
    /** Starts the background work (the revocation keeper). */
    async start() {
      // Start with Redis down if need be, but not fail the first requests only
      // because the connection was still being made.
      if (state.redis) await redisReady(state.redis, 2_000);
      await keeper.start();
      // Secrets stored in clear before TOTP_ENCRYPTION_KEY was set are sealed now.
      if (config.totpEncryptionKey) {
        const sealed = await totp.sealLegacyRows();
        if (sealed > 0) log.info({ sealed }, 'encrypted TOTP secrets stored in clear');
      }
      // In the background: a provider that cannot be discovered is
      // unavailable (503) until it can, and auth serves everything else.
      void oidcProviders.start();
    },
    /** Stops the background work and closes what this context opened. */
    async close() {
      await keeper.stop();
      oidcProviders.stop();
      if (!deps.db) await db.$disconnect();
      if (!deps.state) await state.close();
      if (!deps.mailer) mailer.close();
    },
  };
}

export type AuthContext = Awaited<ReturnType<typeof createAuthContext>>;
