import { randomUUID } from 'node:crypto';
import type { FeatureSet } from '@tollgate/contracts';
import type { Db } from '../../db/prisma.js';

export interface UserRecord {
  id: string;
  login: string;
  email: string;
  /** Null for an account made from a provider identity that never set a password. */
  passwordHash: string | null;
  /** When an admin disabled the user; null while enabled. */
  disabledAt: Date | null;
  /** When the owner last proved they read mail at `email`; null until then. */
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

/**
 * A user as a login needs them, read in one statement: the roles held now,
 * the second factors on (TOTP confirmed, passkeys registered) and the
 * entitlements the access token will carry.
 */
export interface LoginRecord extends UserRecord {
  roleNames: string[];
  secondFactors: { totp: boolean; passkeys: number };
  entitlements: { version: number; features: FeatureSet } | null;
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
    create(data: { login: string; email: string; passwordHash: string | null }): Promise<UserRecord> {
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
      data: Partial<Pick<UserRecord, 'login' | 'email' | 'passwordHash' | 'emailVerifiedAt'>>,
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
    /**
     * Marks `email` verified, if it is still the user's address (a change or
     * a newer verification may have come in between); false otherwise.
     */
    async markEmailVerified(id: string, email: string, at = new Date()): Promise<boolean> {
      const { count } = await db.user.updateMany({
        where: { id, email: email.toLowerCase() },
        data: { emailVerifiedAt: at },
      });
      return count === 1;
    },
    /** Sets or clears the disabled mark; false when there is no such user. */
    async setDisabled(id: string, disabledAt: Date | null): Promise<boolean> {
      const { count } = await db.user.updateMany({ where: { id }, data: { disabledAt } });
      return count === 1;
    },
    /** Deletes the user; their grants, sessions and login history go with them (foreign keys cascade). */
    async remove(id: string): Promise<boolean> {
      const { count } = await db.user.deleteMany({ where: { id } });
      return count === 1;
    },
    /** Users holding `roleName` now, with their password hashes (for the start-up check of default passwords). */
    findHoldersOf(roleName: string): Promise<UserRecord[]> {
      return db.user.findMany({
        where: {
          roles: {
            some: { role: { name: roleName }, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
          },
        },
        orderBy: { login: 'asc' },
      });
    },
    /**
     * The user a login form names (by login, or by email when it has an @),
     * with what the rest of the login needs (LoginRecord). One hand-written
     * query: login is the hot path; raw SQL costs a third of the CPU of the
     * equivalent Prisma query with an include, and every further query is
     * one more round trip and one more pass through Prisma's query compiler
     * (the second factors and the entitlements were two and one of their
     * own; measured with bench/auth, ADR 0020).
     */
    async findForLogin(loginOrEmail: string): Promise<LoginRecord | null> {
      const key = loginOrEmail.toLowerCase();
      const byEmail = key.includes('@');
      const rows = await db.$queryRaw<
        {
          id: string;
          login: string;
          email: string;
          password_hash: string;
          disabled_at: Date | null;
          email_verified_at: Date | null;
          created_at: Date;
          role_names: string[];
          totp_on: boolean;
          passkeys: number;
          ent_version: bigint | null;
          ent_features: FeatureSet | null;
        }[]
      >`
        SELECT u.id, u.login, u.email, u.password_hash, u.disabled_at, u.email_verified_at, u.created_at,
               coalesce(array_agg(DISTINCT r.name ORDER BY r.name) FILTER (WHERE r.name IS NOT NULL), '{}') AS role_names,
               EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) AS totp_on,
               (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id)::int AS passkeys,
               e.version AS ent_version, e.features AS ent_features
          FROM users u
          LEFT JOIN user_roles ur ON ur.user_id = u.id AND (ur.expires_at IS NULL OR ur.expires_at > now())
          LEFT JOIN roles r ON r.id = ur.role_id
          LEFT JOIN user_entitlements e ON e.user_id = u.id
         WHERE (${byEmail} AND u.email = ${key}) OR (NOT ${byEmail} AND u.login = ${key})
         GROUP BY u.id, e.user_id`;
      const row = rows[0];
      if (!row) return null;
      return {
        id: row.id,
        login: row.login,
        email: row.email,
        passwordHash: row.password_hash,
        disabledAt: row.disabled_at,
        emailVerifiedAt: row.email_verified_at,
        createdAt: row.created_at,
        roleNames: row.role_names,
        secondFactors: { totp: row.totp_on, passkeys: row.passkeys },
        entitlements:
          row.ent_version === null
            ? null
            : { version: Number(row.ent_version), features: row.ent_features ?? {} },
      };
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
