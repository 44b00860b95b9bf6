import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/prisma.js';

export interface UserRecord {
  id: string;
  login: string;
  email: string;
  passwordHash: string;
  createdAt: Date;
}

export function createUsersRepository(db: Db) {
  return {
    findByLogin(login: string): Promise<UserRecord | null> {
      return db.user.findUnique({ where: { login: login.toLowerCase() } });
    },
    findByEmail(email: string): Promise<UserRecord | null> {
      return db.user.findUnique({ where: { email: email.toLowerCase() } });
    },
    findById(id: string): Promise<UserRecord | null> {
      return db.user.findUnique({ where: { id } });
    },
    create(data: { login: string; email: string; passwordHash: string }): Promise<UserRecord> {
      return db.user.create({
        data: {
          id: randomUUID(),
          login: data.login.toLowerCase(),
          email: data.email.toLowerCase(),
          passwordHash: data.passwordHash,
        },
      });
    },
    update(
      id: string,
      data: Partial<Pick<UserRecord, 'login' | 'email' | 'passwordHash'>>,
    ): Promise<UserRecord> {
      return db.user.update({
        where: { id },
        data: {
          ...data,
          ...(data.login ? { login: data.login.toLowerCase() } : {}),
          ...(data.email ? { email: data.email.toLowerCase() } : {}),
        },
      });
    },
    /** The user a login form names (by login, or by email when it has an @), with the roles they hold now: one query. */
    async findForLogin(
      loginOrEmail: string,
      now = new Date(),
    ): Promise<(UserRecord & { roleNames: string[] }) | null> {
      const key = loginOrEmail.toLowerCase();
      const user = await db.user.findUnique({
        where: key.includes('@') ? { email: key } : { login: key },
        include: {
          roles: {
            where: { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
            select: { role: { select: { name: true } } },
          },
        },
      });
      if (!user) return null;
      const { roles, ...record } = user;
      return { ...record, roleNames: [...new Set(roles.map((g) => g.role.name))].sort() };
    },
    /** Names of the roles the user holds now, from any source. */
    async activeRoleNames(userId: string, now = new Date()): Promise<string[]> {
      const grants = await db.userRole.findMany({
        where: { userId, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
        select: { role: { select: { name: true } } },
      });
      return [...new Set(grants.map((g) => g.role.name))].sort();
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
