import { randomUUID } from 'node:crypto';
import type { FeatureSet } from '@tollgate/contracts';
import type { Db } from '../../db/prisma.js';
import type { LoginRecord, UserRecord } from '../users/users.repository.js';

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  ip: string | null;
  userAgent: string | null;
}

export interface StoredRefreshToken {
  id: string;
  usedAt: Date | null;
  session: {
    id: string;
    userId: string;
    endedAt: Date | null;
    expiresAt: Date;
    user: UserRecord & Pick<LoginRecord, 'roleNames' | 'entitlements'>;
  };
}

export interface SessionsRepositoryOptions {
  /**
   * How long after a session ends one of its access tokens may still be
   * unexpired (access TTL + clock slack): how long its revocation is kept.
   */
  revocationWindowSeconds?: number;
}

/** The access-token lifetime's default (900 s) plus the verifiers' clock slack. */
const DEFAULT_REVOCATION_WINDOW_SECONDS = 900 + 10;

export function createSessionsRepository(db: Db, options: SessionsRepositoryOptions = {}) {
  const windowMs = (options.revocationWindowSeconds ?? DEFAULT_REVOCATION_WINDOW_SECONDS) * 1000;
  return {
    /**
     * A new session, its first refresh token and the login-history entry of
     * the login that opened it: one statement, so one round trip and atomic
     * (login is the hot path; see findForLogin). Null when the user is
     * disabled (or gone): the FOR SHARE row lock makes this statement and an
     * admin's disable (an UPDATE of the row) exclusive, so either the disable
     * waits for this session to commit and then ends it, or this statement
     * waits for the disable and, re-reading the row, inserts nothing.
     */
    async create(input: {
      userId: string;
      expiresAt: Date;
      ip?: string;
      userAgent?: string;
      refreshTokenHash: string;
      login: string;
      /** The OpenID provider the login went through (login history records it). */
      provider?: string;
    }): Promise<string | null> {
      const id = randomUUID();
      const ip = input.ip ?? null;
      const userAgent = input.userAgent ?? null;
      const provider = input.provider ?? null;
      const inserted = await db.$executeRaw`
        WITH live AS (
          SELECT id FROM users WHERE id = ${input.userId}::uuid AND disabled_at IS NULL FOR SHARE
        ), session AS (
          INSERT INTO sessions (id, user_id, expires_at, ip, user_agent)
          SELECT ${id}::uuid, live.id, ${input.expiresAt}::timestamptz, ${ip}::text, ${userAgent}::text FROM live
          RETURNING id, user_id
        ), refresh AS (
          INSERT INTO refresh_tokens (id, session_id, token_hash)
          SELECT ${randomUUID()}::uuid, session.id, ${input.refreshTokenHash}::text FROM session
        )
        INSERT INTO login_attempts (id, user_id, login, success, provider, ip, user_agent)
        SELECT ${randomUUID()}::uuid, session.user_id, ${input.login.slice(0, 256)}::text, true, ${provider}::text, ${ip}::text, ${userAgent}::text
          FROM session`;
      return inserted === 1 ? id : null;
    },
    /**
     * A refresh token with its session, the session's user, the user's
     * roles in force and their entitlements (the new access token's `ent`): one statement (refresh is a hot path; every round trip
     * counts against rotations/s, bench/auth).
     */
    async findRefreshToken(tokenHash: string): Promise<StoredRefreshToken | null> {
      const rows = await db.$queryRaw<
        {
          id: string;
          used_at: Date | null;
          session_id: string;
          ended_at: Date | null;
          expires_at: Date;
          user_id: string;
          login: string;
          email: string;
          password_hash: string;
          disabled_at: Date | null;
          email_verified_at: Date | null;
          created_at: Date;
          role_names: string[];
          ent_version: bigint | null;
          ent_features: FeatureSet | null;
        }[]
      >`
        SELECT t.id, t.used_at, s.id AS session_id, s.ended_at, s.expires_at,
               u.id AS user_id, u.login, u.email, u.password_hash, u.disabled_at, u.email_verified_at, u.created_at,
               coalesce(array_agg(DISTINCT r.name ORDER BY r.name) FILTER (WHERE r.name IS NOT NULL), '{}') AS role_names,
               e.version AS ent_version, e.features AS ent_features
          FROM refresh_tokens t
          JOIN sessions s ON s.id = t.session_id
          JOIN users u ON u.id = s.user_id
          LEFT JOIN user_roles ur ON ur.user_id = u.id AND (ur.expires_at IS NULL OR ur.expires_at > now())
          LEFT JOIN roles r ON r.id = ur.role_id
          LEFT JOIN user_entitlements e ON e.user_id = u.id
         WHERE t.token_hash = ${tokenHash}
         GROUP BY t.id, s.id, u.id, e.user_id`;
      const row = rows[0];
      if (!row) return null;
      return {
        id: row.id,
        usedAt: row.used_at,
        session: {
          id: row.session_id,
          userId: row.user_id,
          endedAt: row.ended_at,
          expiresAt: row.expires_at,
          user: {
            id: row.user_id,
            login: row.login,
            email: row.email,
            passwordHash: row.password_hash,
            disabledAt: row.disabled_at,
            emailVerifiedAt: row.email_verified_at,
            createdAt: row.created_at,
            roleNames: row.role_names,
            entitlements:
              row.ent_version === null
                ? null
                : { version: Number(row.ent_version), features: row.ent_features ?? {} },
          },
        },
      };
    },
    /**
     * Marks the refresh token used, stores its successor and touches the
     * session: one statement, so atomic and one round trip. Only one caller
     * can win: the UPDATE takes the token's row lock, and a concurrent caller
     * re-reads `used_at IS NULL` after the winner commits and matches
     * nothing. False means the token had been used already (reuse).
     */
    async rotate(tokenId: string, sessionId: string, nextHash: string, ip?: string): Promise<boolean> {
      const rows = await db.$queryRaw<{ rotated: number }[]>`
        WITH used AS (
          UPDATE refresh_tokens SET used_at = now() WHERE id = ${tokenId}::uuid AND used_at IS NULL
          RETURNING session_id
        ), successor AS (
          INSERT INTO refresh_tokens (id, session_id, token_hash)
          SELECT ${randomUUID()}::uuid, used.session_id, ${nextHash}::text FROM used
        ), touched AS (
          UPDATE sessions SET last_used_at = now(), ip = coalesce(${ip ?? null}::text, ip)
           WHERE id = ${sessionId}::uuid AND EXISTS (SELECT 1 FROM used)
        )
        SELECT count(*)::int AS rotated FROM used`;
      return rows[0]?.rotated === 1;
    },
    findActive(sessionId: string): Promise<SessionRecord | null> {
      return db.session.findFirst({ where: { id: sessionId, endedAt: null, expiresAt: { gt: new Date() } } });
    },
    /**
     * A user's open sessions, the most recently used first, at most `limit`
     * of them: a session opens at every login and lives for the refresh TTL,
     * so their number has no bound of its own (a script logging in all day
     * holds thousands), and neither should one response. `hasMore`: there are others.
     */
    async listActive(
      userId: string,
      limit: number,
    ): Promise<{ sessions: SessionRecord[]; hasMore: boolean }> {
      const rows = await db.session.findMany({
        where: { userId, endedAt: null, expiresAt: { gt: new Date() } },
        orderBy: [{ lastUsedAt: 'desc' }, { id: 'asc' }],
        take: limit + 1,
      });
      return { sessions: rows.slice(0, limit), hasMore: rows.length > limit };
    },
    /**
     * Ends the given sessions of a user that are still open; returns the ids it
     * ended. Each ended session gets its revocation row in the same
     * transaction, so a revocation is never lost even when publishing it to
     * Redis fails afterwards (the revocation keeper publishes it then).
     */
    async end(userId: string, filter: { only?: string; except?: string }, reason: string): Promise<string[]> {
      return db.$transaction(async (tx) => {
        const open = await tx.session.findMany({
          where: {
            userId,
            endedAt: null,
            ...(filter.only ? { id: filter.only } : {}),
            ...(filter.except ? { NOT: { id: filter.except } } : {}),
          },
          select: { id: true },
        });
        const ids = open.map((s) => s.id);
        if (ids.length > 0) {
          const endedAt = new Date();
          await tx.session.updateMany({
            where: { id: { in: ids } },
            data: { endedAt, endedReason: reason },
          });
          await tx.sessionRevocation.createMany({
            data: ids.map((sessionId) => ({
              sessionId,
              userId,
              revokedAt: endedAt,
              notAfter: new Date(endedAt.getTime() + windowMs),
            })),
            skipDuplicates: true,
          });
        }
        return ids;
      });
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
