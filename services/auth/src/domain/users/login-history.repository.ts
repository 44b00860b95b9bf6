import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/prisma.js';

export interface LoginAttemptInput {
  userId: string | null;
  login: string;
  success: boolean;
  reason?: string;
  /** The OpenID provider the attempt went through; none for a password login. */
  provider?: string;
  ip?: string;
  userAgent?: string;
}

export function createLoginHistoryRepository(db: Db) {
  return {
    async record(input: LoginAttemptInput): Promise<void> {
      await db.loginAttempt.create({
        data: { id: randomUUID(), ...input, login: input.login.slice(0, 256) },
      });
    },
    async page(userId: string, pageSize: number, pageNumber: number) {
      const [total, rows] = await db.$transaction([
        db.loginAttempt.count({ where: { userId } }),
        db.loginAttempt.findMany({
          where: { userId },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          skip: (pageNumber - 1) * pageSize,
          take: pageSize,
        }),
      ]);
      return { total, rows };
    },
  };
}

export type LoginHistoryRepository = ReturnType<typeof createLoginHistoryRepository>;
