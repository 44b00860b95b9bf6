/**
 * The admin panel's @fastify/session store, in billing's own database: every
 * replica reads the same sessions, so an admin signed in on one is signed in
 * on all (per-process memory bounced 2 of 3 requests to the login page behind
 * round-robin). Chosen over connect-pg-simple: the table is one of billing's
 * migrations and goes through the Prisma client billing already holds, with
 * no second connection pool (architecture/decisions/0011-admin-panel.md).
 */
import type { FastifySessionObject, SessionStore } from '@fastify/session';
import type { Db, Prisma } from '../db/prisma.js';

type StoredSession = Parameters<SessionStore['set']>[1];
type Callback = (error?: unknown) => void;

export interface AdminSessionStoreOptions {
  db: Pick<Db, 'adminSession'>;
  /** How long a session lives when its cookie names no expiry. */
  ttlMs: number;
  /** Expired rows are deleted at most this often (by whichever replica writes a session). */
  pruneEveryMs?: number;
  now?: () => number;
}

function expiryOf(session: StoredSession, fallback: number): Date {
  const expires = (session as Partial<FastifySessionObject>).cookie?.expires;
  const at = expires ? new Date(expires).getTime() : Number.NaN;
  return new Date(Number.isFinite(at) ? at : fallback);
}

export function createAdminSessionStore(options: AdminSessionStoreOptions): SessionStore {
  const { db, ttlMs } = options;
  const now = options.now ?? Date.now;
  const pruneEveryMs = options.pruneEveryMs ?? 60_000;
  let lastPrune = 0;

  const prune = async () => {
    if (now() - lastPrune < pruneEveryMs) return;
    lastPrune = now();
    await db.adminSession.deleteMany({ where: { expiresAt: { lt: new Date(now()) } } });
  };

  // @fastify/session speaks the express-session callback protocol.
  const settle = (work: Promise<unknown>, callback: Callback) => {
    work.then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  };

  return {
    set(sid, session, callback) {
      const expiresAt = expiryOf(session, now() + ttlMs);
      // JSON round trip: the session object carries a Cookie instance and symbols.
      const data = JSON.parse(JSON.stringify(session)) as Prisma.InputJsonObject;
      settle(
        db.adminSession
          .upsert({ where: { sid }, create: { sid, data, expiresAt }, update: { data, expiresAt } })
          .then(prune),
        callback,
      );
    },
    get(sid, callback) {
      db.adminSession.findFirst({ where: { sid, expiresAt: { gt: new Date(now()) } } }).then(
        (row) => callback(null, (row?.data ?? null) as StoredSession | null),
        (error: unknown) => callback(error),
      );
    },
    destroy(sid, callback) {
      settle(db.adminSession.deleteMany({ where: { sid } }), callback);
    },
  };
}
