import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/prisma.js';

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
    findRefreshToken(tokenHash: string) {
      return db.refreshToken.findUnique({
        where: { tokenHash },
        include: { session: { include: { user: true } } },
      });
    },
    /**
     * Marks the refresh token used and stores its successor, atomically. Only
     * one caller can win: false means the token had been used already (reuse).
     */
    async rotate(tokenId: string, sessionId: string, nextHash: string, ip?: string): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.refreshToken.updateMany({
          where: { id: tokenId, usedAt: null },
          data: { usedAt: new Date() },
        });
        if (count === 0) return false;
        await tx.refreshToken.create({ data: { id: randomUUID(), sessionId, tokenHash: nextHash } });
        await tx.session.update({
          where: { id: sessionId },
          data: { lastUsedAt: new Date(), ...(ip ? { ip } : {}) },
        });
        return true;
      });
    },
    findActive(sessionId: string): Promise<SessionRecord | null> {
      return db.session.findFirst({ where: { id: sessionId, endedAt: null, expiresAt: { gt: new Date() } } });
    },
    listActive(userId: string): Promise<SessionRecord[]> {
      return db.session.findMany({
        where: { userId, endedAt: null, expiresAt: { gt: new Date() } },
        orderBy: { lastUsedAt: 'desc' },
      });
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
