/**
 * Reads and bookkeeping of `session_revocations`, the durable record that
 * Redis caches (rows are written by the sessions repository when sessions end).
 */
import type { Db } from '../../db/prisma.js';

export interface Revocation {
  sessionId: string;
  notAfter: Date;
}

const select = { sessionId: true, notAfter: true } as const;

export function createRevocationsRepository(db: Db) {
  return {
    /** Revocations of a user still in force, limited like SessionsRepository.end's filter. */
    ofUser(
      userId: string,
      filter: { only?: string; except?: string },
      now = new Date(),
    ): Promise<Revocation[]> {
      return db.sessionRevocation.findMany({
        where: {
          userId,
          notAfter: { gt: now },
          ...(filter.only ? { sessionId: filter.only } : {}),
          ...(filter.except ? { NOT: { sessionId: filter.except } } : {}),
        },
        select,
      });
    },

    /** Every revocation still in force: what a rebuilt cache must hold. */
    live(now = new Date()): Promise<Revocation[]> {
      return db.sessionRevocation.findMany({ where: { notAfter: { gt: now } }, select });
    },

    /** Revocations in force that no Redis write has confirmed yet, oldest first. */
    unpublished(limit: number, now = new Date()): Promise<Revocation[]> {
      return db.sessionRevocation.findMany({
        where: { publishedAt: null, notAfter: { gt: now } },
        orderBy: { revokedAt: 'asc' },
        take: limit,
        select,
      });
    },

    async markPublished(sessionIds: readonly string[], at = new Date()): Promise<void> {
      if (sessionIds.length === 0) return;
      await db.sessionRevocation.updateMany({
        where: { sessionId: { in: [...sessionIds] } },
        data: { publishedAt: at },
      });
    },

    /** Rows whose tokens have all expired are no longer needed; keeps the table small. */
    async prune(olderThan: Date): Promise<number> {
      const { count } = await db.sessionRevocation.deleteMany({ where: { notAfter: { lt: olderThan } } });
      return count;
    },

    /**
     * The authority for token checks when Redis cannot answer: a session
     * counts as ended when its row says so, or when there is no row at all
     * (a deleted session or user).
     */
    async isSessionEnded(sessionId: string): Promise<boolean> {
      const session = await db.session.findUnique({ where: { id: sessionId }, select: { endedAt: true } });
      return session === null || session.endedAt !== null;
    },
  };
}

export type RevocationsRepository = ReturnType<typeof createRevocationsRepository>;
