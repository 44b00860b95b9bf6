/**
 * Single-use tokens sent by mail. The token is 256 random bits handed to the
 * user once; only its SHA-256 is stored, so a copy of the database cannot
 * verify an address or reset a password.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../db/prisma.js';

export type EmailTokenPurpose = 'verify_email' | 'reset_password' | 'change_email';

export interface EmailTokenRecord {
  id: string;
  userId: string;
  purpose: string;
  email: string;
  expiresAt: Date;
}

export const hashEmailToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function createEmailTokensRepository(db: Db) {
  return {
    /**
     * A new token for `purpose`; earlier unused ones of the same purpose stop
     * working (only the newest mail's link is good).
     */
    async issue(
      userId: string,
      purpose: EmailTokenPurpose,
      email: string,
      ttlSeconds: number,
      now = new Date(),
    ) {
      const token = randomBytes(32).toString('base64url');
      await db.$transaction([
        db.emailToken.updateMany({ where: { userId, purpose, usedAt: null }, data: { usedAt: now } }),
        db.emailToken.create({
          data: {
            id: randomUUID(),
            userId,
            purpose,
            email: email.toLowerCase(),
            tokenHash: hashEmailToken(token),
            expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
          },
        }),
      ]);
      return token;
    },
    /**
     * Uses the token: one conditional UPDATE, so of two concurrent uses one
     * wins. Null when it is unknown, of another purpose, used or expired.
     */
    async consume(token: string, purposes: readonly EmailTokenPurpose[], now = new Date()) {
      const rows = await db.$queryRaw<
        { id: string; user_id: string; purpose: string; email: string; expires_at: Date }[]
      >`
        UPDATE email_tokens SET used_at = ${now}
         WHERE token_hash = ${hashEmailToken(token)} AND used_at IS NULL AND expires_at > ${now}
           AND purpose = ANY(${purposes as string[]}::text[])
        RETURNING id, user_id, purpose, email, expires_at`;
      const row = rows[0];
      if (!row) return null;
      return {
        id: row.id,
        userId: row.user_id,
        purpose: row.purpose,
        email: row.email,
        expiresAt: row.expires_at,
      } satisfies EmailTokenRecord;
    },
    /** Ends every unused token of `purpose` (e.g. reset links once the password changed). */
    async revoke(userId: string, purpose: EmailTokenPurpose, now = new Date()) {
      await db.emailToken.updateMany({ where: { userId, purpose, usedAt: null }, data: { usedAt: now } });
    },
  };
}

export type EmailTokensRepository = ReturnType<typeof createEmailTokensRepository>;
