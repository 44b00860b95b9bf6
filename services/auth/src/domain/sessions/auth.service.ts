/**
 * Registration, login, token refresh and logout: everything that creates or
 * ends a session.
 */

import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { RevocationStore } from '@tollgate/auth-client';
import { type LoginLockout, lockoutSubject } from '@tollgate/login-guard';
import { isUniqueViolation } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import type { EntitlementsRepository } from '../entitlements/entitlements.repository.js';
import type { PasskeyService } from '../mfa/passkeys.service.js';
import type { MfaTickets, TotpService } from '../mfa/totp.service.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import { checkPassword, describePasswordProblem } from '../passwords/password-policy.js';
import { entClaim } from '../tokens/ent-claim.js';
import { hashRefreshToken, newRefreshToken, type TokenIssuer } from '../tokens/token-issuer.js';
import type { LoginHistoryRepository } from '../users/login-history.repository.js';
import type { LoginRecord, UserRecord, UsersRepository } from '../users/users.repository.js';
import type { RevocationsRepository } from './revocations.repository.js';
import type { SessionsRepository } from './sessions.repository.js';

export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface AuthServiceDeps {
  users: UsersRepository;
  sessions: SessionsRepository;
  loginHistory: LoginHistoryRepository;
  hasher: PasswordHasher;
  lockout: LoginLockout;
  tokens: TokenIssuer;
  /** The entitlements each access token carries in its `ent` claim. */
  entitlements: Pick<EntitlementsRepository, 'current'>;
  /** Where revocations are published for every verifier (Redis, or this process). */
  revocation: RevocationStore;
  /** The durable record of revocations (written by sessions.end). */
  revocations: Pick<RevocationsRepository, 'ofUser' | 'markPublished'>;
  /** Told when publishing failed; the session is ended all the same and the revocation keeper publishes later. */
  onPublishFailed?: (error: unknown, sessionIds: readonly string[]) => Promise<void> | void;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  /** Extra seconds a revocation outlives the last access token (verifiers allow clock skew). */
  revocationSlackSeconds?: number;
  /** Told of each new account (the verification mail goes out from here). */
  onRegistered?: (user: UserRecord) => Promise<void>;
  /**
   * Asked to change a user's email (after their password was checked). The
   * address changes only once the new one is confirmed; without this hook it
   * changes at once.
   */
  requestEmailChange?: (user: UserRecord, newEmail: string) => Promise<void>;
  /**
   * The second factor: a password login of a user with TOTP on or a passkey
   * answers mfa_required with a ticket; a passkey also signs in on its own.
   */
  mfa?: {
    totp: Pick<TotpService, 'isEnabled' | 'check' | 'disable'>;
    tickets: MfaTickets;
    passkeys?: Pick<PasskeyService, 'authenticate'>;
  };
}

export function assertAcceptablePassword(password: string): void {
  const problem = checkPassword(password);
  if (problem) throw Problems.weakPassword(describePasswordProblem(problem), { reason: problem });
}

export function createAuthService(deps: AuthServiceDeps) {
  const revocationTtl = deps.accessTtlSeconds + (deps.revocationSlackSeconds ?? 10);

  async function issuePair(
    user: UserRecord,
    sessionId: string,
    refreshToken: string,
    /** What was read with the user already (a login's LoginRecord, a refresh token's session): not asked again. */
    known: { roleNames?: string[]; entitlements?: LoginRecord['entitlements'] } = {},
  ): Promise<TokenPair> {
    const [roles, entitlements] = await Promise.all([
      known.roleNames ?? deps.users.activeRoleNames(user.id),
      known.entitlements !== undefined ? known.entitlements : deps.entitlements.current(user.id),
    ]);
    const access = await deps.tokens.issueAccessToken({
      userId: user.id,
      sessionId,
      email: user.email,
      login: user.login,
      roles,
      ent: entClaim(entitlements),
      emailVerified: user.emailVerifiedAt !== null,
    });
    return {
      access_token: access.token,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
    };
  }

  /**
   * Ends sessions in the database (the record, with their revocation rows),
   * then publishes the revocations to the store every verifier reads. The
   * publish covers every revocation in force that the filter names, not only
   * the sessions ended now, so repeating a logout whose publish failed
   * publishes it again. A failed publish does not fail the request: the
   * session has ended, auth's own checks fall back to the database while
   * Redis is unreachable, and the revocation keeper publishes it later.
   */
  async function endSessions(userId: string, filter: { only?: string; except?: string }, reason: string) {
    const ended = await deps.sessions.end(userId, filter, reason);
    const inForce = (await deps.revocations.ofUser(userId, filter)).map((r) => r.sessionId);
    if (inForce.length === 0) return ended;
    try {
      await deps.revocation.revokeSessions(inForce, revocationTtl);
    } catch (error) {
      await deps.onPublishFailed?.(error, inForce);
      return ended;
    }
    await deps.revocations.markPublished(inForce);
    return ended;
  }

  /** Opens a session for a user whose credentials checked out, and answers its first token pair. */
  async function startSession(
    user: LoginRecord,
    loginName: string,
    client: ClientInfo,
    /** The lockout subject to clear, when it had failures recorded. */
    clearLockoutOf?: string,
  ): Promise<TokenPair> {
    const refresh = newRefreshToken();
    const [sessionId] = await Promise.all([
      deps.sessions.create({
        userId: user.id,
        expiresAt: new Date(Date.now() + deps.refreshTtlSeconds * 1000),
        ip: client.ip,
        userAgent: client.userAgent,
        refreshTokenHash: refresh.hash,
        login: loginName,
      }),
      clearLockoutOf ? deps.lockout.recordSuccess(clearLockoutOf, client.ip) : undefined,
    ]);
    // Disabled while the password was being checked.
    if (!sessionId) throw Problems.accountDisabled('this account has been disabled by an administrator');
    return issuePair(user, sessionId, refresh.token, user);
  }

  /**
   * The second step of a login with MFA on, whatever the factor: the ticket
   * from the password step, the lockout, `verify` (throws when the factor is
   * wrong: a failure counted into the lockout and the login history), then
   * the ticket spent once and the session started.
   */
  async function secondStep(
    ticketToken: string,
    client: ClientInfo,
    failureReason: string,
    verify: (user: UserRecord) => Promise<void>,
  ): Promise<TokenPair> {
    if (!deps.mfa) throw Problems.mfaTicketInvalid('multi-factor login is not configured');
    const ticket = await deps.mfa.tickets.attempt(ticketToken);
    if (!ticket) throw Problems.mfaTicketInvalid('log in with the password again for a new ticket');
    const user = await deps.users.findForLogin(ticket.login);
    if (!user || user.id !== ticket.userId)
      throw Problems.mfaTicketInvalid('log in with the password again for a new ticket');
    const subject = lockoutSubject(user, ticket.login);
    const lockout = await deps.lockout.check(subject, client.ip);
    if (lockout.lockedSeconds > 0) throw Problems.accountLocked(lockout.lockedSeconds);
    try {
      await verify(user);
    } catch (error) {
      await deps.lockout.recordFailure(subject, client.ip);
      await deps.loginHistory.record({
        userId: user.id,
        login: ticket.login,
        success: false,
        reason: failureReason,
        ...client,
      });
      throw error;
    }
    if (!(await deps.mfa.tickets.spend(ticket.id)))
      throw Problems.mfaTicketInvalid('this ticket was used already');
    if (user.disabledAt) throw Problems.accountDisabled('this account has been disabled by an administrator');
    return startSession(user, ticket.login, client, lockout.clean ? undefined : subject);
  }

  async function verifyCurrentPassword(user: UserRecord, password: string, client: ClientInfo) {
    const subject = lockoutSubject(user, user.login);
    const status = await deps.lockout.check(subject, client.ip);
    if (status.lockedSeconds > 0) throw Problems.accountLocked(status.lockedSeconds);
    // An account without a password (made from a provider identity) has no current password to give.
    const { ok } = user.passwordHash
      ? await deps.hasher.verify(user.passwordHash, password)
      : { ok: await deps.hasher.verifyAgainstDummy(password).then(() => false) };
    if (!ok) {
      await deps.lockout.recordFailure(subject, client.ip);
      await deps.loginHistory.record({
        userId: user.id,
        login: user.login,
        success: false,
        reason: 'wrong_current_password',
        ...client,
      });
      throw Problems.currentPasswordInvalid('current_password is wrong');
    }
    if (!status.clean) await deps.lockout.recordSuccess(subject, client.ip);
  }

  /**
   * A user with TOTP on or a passkey gets no session from a first factor
   * alone (a password, an OpenID provider's login): answers mfa_required with
   * a ticket for POST /v1/auth/login/mfa or /v1/auth/login/passkey.
   */
  async function requireSecondStep(user: LoginRecord, login: string, firstFactor: string) {
    if (!deps.mfa) return;
    const totpOn = user.secondFactors.totp;
    const passkeys = deps.mfa.passkeys ? user.secondFactors.passkeys : 0;
    if (!totpOn && passkeys === 0) return;
    const { ticket, expiresIn } = await deps.mfa.tickets.issue(user.id, login);
    const methods: ('totp' | 'passkey')[] = [];
    if (totpOn) methods.push('totp');
    if (passkeys > 0) methods.push('passkey');
    throw Problems.mfaRequired(ticket, expiresIn, methods, firstFactor);
  }

  /** A session for a user someone else authenticated (an OpenID provider, a passkey). */
  async function startProvidedSession(
    user: UserRecord,
    client: ClientInfo,
    provider: string,
  ): Promise<TokenPair> {
    const refresh = newRefreshToken();
    const sessionId = await deps.sessions.create({
      userId: user.id,
      expiresAt: new Date(Date.now() + deps.refreshTtlSeconds * 1000),
      ip: client.ip,
      userAgent: client.userAgent,
      refreshTokenHash: refresh.hash,
      login: user.login,
      provider,
    });
    if (!sessionId) {
      await deps.loginHistory.record({
        userId: user.id,
        login: user.login,
        success: false,
        reason: 'disabled',
        provider,
        ...client,
      });
      throw Problems.accountDisabled('this account has been disabled by an administrator');
    }
    return issuePair(user, sessionId, refresh.token);
  }

  return {
    async register(input: { login: string; email: string; password: string }) {
      assertAcceptablePassword(input.password);
      // Cheap checks first so a taken login costs no hashing; the unique
      // constraints below are what actually decides concurrent registrations.
      if (await deps.users.findByLogin(input.login))
        throw Problems.loginTaken(`login "${input.login}" is taken`);
      if (await deps.users.findByEmail(input.email))
        throw Problems.emailTaken('this email is already registered');
      const passwordHash = await deps.hasher.hash(input.password);
      let user: UserRecord;
      try {
        user = await deps.users.create({ login: input.login, email: input.email, passwordHash });
      } catch (error) {
        if (isUniqueViolation(error, 'login')) throw Problems.loginTaken(`login "${input.login}" is taken`);
        if (isUniqueViolation(error, 'email')) throw Problems.emailTaken('this email is already registered');
        throw error;
      }
      await deps.onRegistered?.(user);
      return user;
    },

    async login(input: { login: string; password: string }, client: ClientInfo): Promise<TokenPair> {
      // The account first, so that its login and its email share one lockout.
      const user = await deps.users.findForLogin(input.login);
      const subject = lockoutSubject(user, input.login);
      const lockout = await deps.lockout.check(subject, client.ip);
      const locked = lockout.lockedSeconds;
      if (locked > 0) {
        await deps.loginHistory.record({
          userId: user?.id ?? null,
          login: input.login,
          success: false,
          reason: 'locked_out',
          ...client,
        });
        throw Problems.accountLocked(locked);
      }
      let verdict = { ok: false, needsRehash: false };
      // No password (an account made from a provider identity) answers like a wrong one, in the same time.
      if (user?.passwordHash) verdict = await deps.hasher.verify(user.passwordHash, input.password);
      else await deps.hasher.verifyAgainstDummy(input.password);

      if (!user || !verdict.ok) {
        await deps.lockout.recordFailure(subject, client.ip);
        await deps.loginHistory.record({
          userId: user?.id ?? null,
          login: input.login,
          success: false,
          reason: user ? 'wrong_password' : 'unknown_login',
          ...client,
        });
        // One answer for an unknown login and a wrong password.
        throw Problems.invalidCredentials('the login or password is wrong');
      }
      // Only someone who knows the password learns that the account is disabled.
      if (user.disabledAt) {
        await deps.loginHistory.record({
          userId: user.id,
          login: input.login,
          success: false,
          reason: 'disabled',
          ...client,
        });
        throw Problems.accountDisabled('this account has been disabled by an administrator');
      }

      if (verdict.needsRehash) {
        await deps.users.update(user.id, { passwordHash: await deps.hasher.hash(input.password) });
      }
      // The lockout keeps counting until the second factor is through too.
      // Read with the user, before the password was checked: a factor turned on
      // during those milliseconds applies from the next login.
      await requireSecondStep(user, input.login, 'The password is right');
      return startSession(user, input.login, client, lockout.clean ? undefined : subject);
    },

    /** The second step of a login with TOTP on: the ticket from the first, and a TOTP or recovery code. */
    async loginMfa(input: { ticket: string; code: string }, client: ClientInfo): Promise<TokenPair> {
      const mfa = deps.mfa;
      if (!mfa) throw Problems.mfaTicketInvalid('multi-factor login is not configured');
      return secondStep(input.ticket, client, 'wrong_mfa_code', async (user) => {
        if (!(await mfa.totp.check(user.id, input.code)))
          throw Problems.mfaCodeInvalid('the code is wrong or was used already');
      });
    },

    /**
     * Sign-in with a passkey alone (usernameless): the authenticator verified
     * the user (PIN or biometrics) and holds the key, two factors in one, so no
     * MFA ticket follows. Login history records the method as provider "passkey".
     */
    async loginPasskey(response: AuthenticationResponseJSON, client: ClientInfo): Promise<TokenPair> {
      if (!deps.mfa?.passkeys) throw Problems.passkeyInvalid('passkeys are not configured');
      const userId = await deps.mfa.passkeys.authenticate(response);
      const user = await deps.users.findById(userId);
      if (!user) throw Problems.passkeyInvalid('this passkey is not registered here');
      if (user.disabledAt) {
        await deps.loginHistory.record({
          userId: user.id,
          login: user.login,
          success: false,
          reason: 'disabled',
          provider: 'passkey',
          ...client,
        });
        throw Problems.accountDisabled('this account has been disabled by an administrator');
      }
      return startProvidedSession(user, client, 'passkey');
    },

    /** The second step of a login with MFA on, signed with one of the user's passkeys. */
    async loginMfaPasskey(
      input: { ticket: string; response: AuthenticationResponseJSON },
      client: ClientInfo,
    ): Promise<TokenPair> {
      const passkeys = deps.mfa?.passkeys;
      if (!passkeys) throw Problems.mfaTicketInvalid('passkeys are not configured');
      return secondStep(input.ticket, client, 'wrong_passkey', async (user) => {
        await passkeys.authenticate(input.response, user.id);
      });
    },

    /** Turns TOTP off: needs the password and a code (wrong ones count into the lockout). */
    async disableTotp(userId: string, input: { password: string; code: string }, client: ClientInfo) {
      if (!deps.mfa) throw Problems.mfaNotSetUp('multi-factor login is not configured');
      const user = await deps.users.findById(userId);
      if (!user) throw Problems.userNotFound();
      if (!(await deps.mfa.totp.isEnabled(userId))) throw Problems.mfaNotSetUp('TOTP is not on');
      await verifyCurrentPassword(user, input.password, client);
      if (!(await deps.mfa.totp.check(userId, input.code))) {
        await deps.lockout.recordFailure(lockoutSubject(user, user.login), client.ip);
        throw Problems.mfaCodeInvalid('the code is wrong or was used already');
      }
      await deps.mfa.totp.disable(userId);
    },

    /**
     * Starts a session for a user someone else authenticated (an OpenID
     * provider): the same session, token pair and login history as a
     * password login, with the provider recorded.
     */
    async startSession(user: UserRecord, client: ClientInfo, provider: string): Promise<TokenPair> {
      // A provider's login is one factor: an account that has a second one
      // asks for it here too, or a taken-over provider account would skip it.
      const withFactors = await deps.users.findForLogin(user.login);
      if (withFactors) await requireSecondStep(withFactors, user.login, `The login at ${provider} is right`);
      return startProvidedSession(user, client, provider);
    },

    async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
      const stored = await deps.sessions.findRefreshToken(hashRefreshToken(refreshToken));
      if (!stored) throw Problems.refreshTokenInvalid('unknown refresh token');
      const { session } = stored;
      if (session.user.disabledAt) {
        throw Problems.accountDisabled('this account has been disabled by an administrator');
      }
      if (session.endedAt || session.expiresAt <= new Date()) {
        throw Problems.refreshTokenInvalid('the session of this refresh token has ended');
      }
      const next = newRefreshToken();
      const rotated = stored.usedAt
        ? false
        : await deps.sessions.rotate(stored.id, session.id, next.hash, client.ip);
      if (!rotated) {
        // A refresh token is good for one use. Seeing it again means it was
        // copied: end the whole session so neither copy keeps working.
        await endSessions(session.userId, { only: session.id }, 'refresh_token_reuse');
        throw Problems.refreshTokenReused('this refresh token was already used; its session has been ended');
      }
      return issuePair(session.user, session.id, next.token, session.user);
    },

    /**
     * Ends sessions of a user and publishes their revocation (every verifier
     * rejects their access tokens from then on). The one way sessions end.
     */
    endSessions,

    logout(userId: string, sessionId: string) {
      return endSessions(userId, { only: sessionId }, 'logout');
    },

    logoutAll(userId: string) {
      return endSessions(userId, {}, 'logout_all');
    },

    async revokeSession(userId: string, sessionId: string) {
      const ended = await endSessions(userId, { only: sessionId }, 'revoked');
      if (ended.length === 0) throw Problems.sessionNotFound(`no open session ${sessionId}`);
    },

    listSessions(userId: string, limit: number) {
      return deps.sessions.listActive(userId, limit);
    },

    /**
     * Changes login, email or password. Each needs current_password: a stolen
     * access token alone must not take the account over. Wrong ones count
     * into the same lockout as failed logins for this account.
     */
    async updateProfile(
      userId: string,
      currentSessionId: string,
      changes: { login?: string; email?: string; password?: string; current_password?: string },
      client: ClientInfo,
    ) {
      const user = await deps.users.findById(userId);
      if (!user) throw Problems.userNotFound();
      const update: { login?: string; email?: string; passwordHash?: string } = {};
      if (changes.login !== undefined && changes.login.toLowerCase() !== user.login)
        update.login = changes.login;
      if (changes.email !== undefined && changes.email.toLowerCase() !== user.email)
        update.email = changes.email;
      if (changes.password === undefined && Object.keys(update).length === 0) return user;

      if (changes.current_password === undefined) {
        throw Problems.currentPasswordRequired('changing login, email or password needs current_password');
      }
      await verifyCurrentPassword(user, changes.current_password, client);
      if (changes.password !== undefined) {
        assertAcceptablePassword(changes.password);
        update.passwordHash = await deps.hasher.hash(changes.password);
      }
      const newEmail = update.email;
      if (newEmail !== undefined && deps.requestEmailChange) {
        // Refused before anything else changes.
        if (await deps.users.findByEmail(newEmail))
          throw Problems.emailTaken('this email is already registered');
        delete update.email;
      }
      let updated = user;
      if (Object.keys(update).length > 0) {
        try {
          updated = await deps.users.update(userId, update);
        } catch (error) {
          if (isUniqueViolation(error, 'login'))
            throw Problems.loginTaken(`login "${changes.login}" is taken`);
          if (isUniqueViolation(error, 'email'))
            throw Problems.emailTaken('this email is already registered');
          throw error;
        }
      }
      if (update.passwordHash) await endSessions(userId, { except: currentSessionId }, 'password_changed');
      if (newEmail !== undefined && deps.requestEmailChange) await deps.requestEmailChange(updated, newEmail);
      return updated;
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
