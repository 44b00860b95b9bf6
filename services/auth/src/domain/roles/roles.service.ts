/**
 * Roles and their grants. A grant is (user, role, source): "admin" for grants
 * made by hand, "subscription:<id>" (or any other source string) for grants
 * made by services. Each source's grant is separate, so billing revoking its
 * grant leaves an admin's grant of the same role in place.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeCause } from '@tollgate/contracts';
import type { Db } from '../../db/prisma.js';
import { isUniqueViolation } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { auditRow } from '../audit/audit.repository.js';
import { createUsersRepository, type UsersRepository } from '../users/users.repository.js';

export const BUILT_IN_ROLES = [
  { name: 'admin', description: 'Manages users and roles' },
  { name: 'subscriber', description: 'Has a paid subscription' },
  { name: 'premium', description: 'Has the premium subscription' },
  { name: 'downloads', description: 'Has the offline-downloads add-on' },
] as const;

export const ADMIN_ROLE = 'admin';
export const MANUAL_SOURCE = 'admin';

/** Who changed a grant and why, for the audit log. */
export interface GrantChange {
  /** An admin's user id, or a service's client id. */
  actor?: string;
  cause?: ChangeCause;
}

export interface RoleView {
  name: string;
  description: string;
  created_at: string;
}

function view(role: { name: string; description: string; createdAt: Date }): RoleView {
  return { name: role.name, description: role.description, created_at: role.createdAt.toISOString() };
}

export function createRolesService(db: Db, users: UsersRepository = createUsersRepository(db)) {
  async function roleByName(name: string) {
    const role = await db.role.findUnique({ where: { name } });
    if (!role) throw Problems.roleNotFound(`no role "${name}"`);
    return role;
  }

  async function userByLogin(login: string) {
    const user = await db.user.findUnique({ where: { login: login.toLowerCase() } });
    if (!user) throw Problems.userNotFound(`no user "${login}"`);
    return user;
  }

  return {
    /** Idempotent and safe when replicas start together: INSERT … ON CONFLICT DO NOTHING. */
    async seedBuiltIns(): Promise<void> {
      await db.role.createMany({
        data: BUILT_IN_ROLES.map((role) => ({ id: randomUUID(), ...role })),
        skipDuplicates: true,
      });
    },

    async list(): Promise<RoleView[]> {
      return (await db.role.findMany({ orderBy: { name: 'asc' } })).map(view);
    },

    async create(input: { name: string; description?: string }): Promise<RoleView> {
      try {
        return view(
          await db.role.create({
            data: { id: randomUUID(), name: input.name, description: input.description ?? '' },
          }),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw Problems.roleExists(`role "${input.name}" exists`);
        throw error;
      }
    },

    async update(name: string, changes: { name?: string; description?: string }): Promise<RoleView> {
      const role = await roleByName(name);
      if (changes.name && changes.name !== name && BUILT_IN_ROLES.some((r) => r.name === name)) {
        throw Problems.roleProtected(`built-in role "${name}" cannot be renamed`);
      }
      try {
        return view(await db.role.update({ where: { id: role.id }, data: changes }));
      } catch (error) {
        if (isUniqueViolation(error)) throw Problems.roleExists(`role "${changes.name}" exists`);
        throw error;
      }
    },

    async remove(name: string): Promise<void> {
      if (BUILT_IN_ROLES.some((r) => r.name === name)) {
        throw Problems.roleProtected(`built-in role "${name}" cannot be deleted`);
      }
      const role = await roleByName(name);
      await db.role.delete({ where: { id: role.id } });
    },

    /** The id of the user who has this login now, or null. */
    async userIdOf(login: string): Promise<string | null> {
      const user = await db.user.findUnique({ where: { login: login.toLowerCase() }, select: { id: true } });
      return user?.id ?? null;
    },

    /** A user's current login and the names of the roles they hold now. */
    async rolesOfUser(userId: string): Promise<{ login: string; roles: string[] }> {
      const user = await db.user.findUnique({ where: { id: userId }, select: { login: true } });
      if (!user) throw Problems.userNotFound();
      return { login: user.login, roles: await users.activeRoleNames(userId) };
    },

    /** Names of the roles a user holds now, from any source. */
    async rolesOf(login: string): Promise<{ login: string; roles: string[] }> {
      const user = await userByLogin(login);
      return { login: user.login, roles: await users.activeRoleNames(user.id) };
    },

    async hasRole(userId: string, roleName: string): Promise<boolean> {
      const grant = await db.userRole.findFirst({
        where: {
          userId,
          role: { name: roleName },
          OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
        },
        select: { userId: true },
      });
      return grant !== null;
    },

    async grantManually(login: string, roleName: string, change: GrantChange = {}) {
      const user = await userByLogin(login);
      const role = await roleByName(roleName);
      await db.$transaction([
        db.userRole.upsert({
          where: { userId_roleId_source: { userId: user.id, roleId: role.id, source: MANUAL_SOURCE } },
          create: { userId: user.id, roleId: role.id, source: MANUAL_SOURCE },
          update: { expiresAt: null },
        }),
        db.auditEntry.createMany({
          data: [
            auditRow({
              userId: user.id,
              action: 'role_granted',
              role: roleName,
              source: MANUAL_SOURCE,
              actor: change.actor,
              cause: change.cause ?? { type: 'admin' },
            }),
          ],
        }),
      ]);
      return this.rolesOf(login);
    },

    async revokeManually(login: string, roleName: string, change: GrantChange = {}) {
      const user = await userByLogin(login);
      const role = await roleByName(roleName);
      await db.$transaction(async (tx) => {
        const { count } = await tx.userRole.deleteMany({
          where: { userId: user.id, roleId: role.id, source: MANUAL_SOURCE },
        });
        if (count === 0) return;
        await tx.auditEntry.createMany({
          data: [
            auditRow({
              userId: user.id,
              action: 'role_revoked',
              role: roleName,
              source: MANUAL_SOURCE,
              actor: change.actor,
              cause: change.cause ?? { type: 'admin' },
            }),
          ],
        });
      });
      return this.rolesOf(login);
    },

    /**
     * Idempotent grant keyed by (user, role, source); returns whether a new grant was created.
     * One statement: the checks, the upsert and (when something changed) the audit entry. Every
     * paid subscription's role arrives here, and five Prisma round trips in a transaction cost
     * several times the work Postgres does for them (billing's ADR 0015).
     */
    async grantFromSource(
      userId: string,
      roleName: string,
      source: string,
      expiresAt: Date | null,
      change: GrantChange = {},
    ) {
      const details = { expires_at: expiresAt?.toISOString() ?? null };
      const [row] = await db.$queryRaw<
        { userFound: boolean; roleFound: boolean; existed: boolean; expiresAt: Date | null }[]
      >`
        WITH u AS (SELECT id FROM users WHERE id = ${userId}::uuid),
             r AS (SELECT id FROM roles WHERE name = ${roleName}),
             prev AS (SELECT ur.expires_at FROM user_roles ur JOIN r ON ur.role_id = r.id
                       WHERE ur.user_id = ${userId}::uuid AND ur.source = ${source}),
             granted AS (
               INSERT INTO user_roles (user_id, role_id, source, expires_at, updated_at)
               SELECT u.id, r.id, ${source}, ${expiresAt}::timestamptz, now() FROM u, r
               ON CONFLICT (user_id, role_id, source)
                 DO UPDATE SET expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
               RETURNING expires_at),
             -- A retried grant that changes nothing is not news for the history.
             audit AS (
               INSERT INTO audit_log (id, user_id, at, action, role, source, actor, cause, details)
               SELECT ${randomUUID()}::uuid, ${userId}::uuid, clock_timestamp(), 'role_granted', ${roleName},
                      ${source}, ${change.actor ?? null}, ${change.cause ? JSON.stringify(change.cause) : null}::jsonb,
                      ${JSON.stringify(details)}::jsonb || jsonb_build_object('renewed', EXISTS (SELECT 1 FROM prev))
                 FROM granted
                WHERE NOT EXISTS (SELECT 1 FROM prev)
                   OR (SELECT expires_at FROM prev) IS DISTINCT FROM ${expiresAt}::timestamptz)
        SELECT EXISTS (SELECT 1 FROM u) AS "userFound", EXISTS (SELECT 1 FROM r) AS "roleFound",
               EXISTS (SELECT 1 FROM prev) AS existed, (SELECT expires_at FROM granted) AS "expiresAt"`;
      if (!row?.userFound) throw Problems.userNotFound(`no user ${userId}`);
      if (!row.roleFound) throw Problems.roleNotFound(`no role "${roleName}"`);
      return { created: !row.existed, grant: { source, expiresAt: row.expiresAt } };
    },

    /**
     * Grants whose source starts with `sourcePrefix`, in a stable order, a
     * page at a time (keyset pagination on user, role, source): how billing
     * compares what auth holds with what subscriptions entitle.
     */
    async listGrants(
      sourcePrefix: string,
      limit: number,
      after?: { userId: string; role: string; source: string },
    ) {
      const rows = await db.$queryRaw<
        { user_id: string; role: string; source: string; expires_at: Date | null }[]
      >`
        SELECT ur.user_id, r.name AS role, ur.source, ur.expires_at
          FROM user_roles ur JOIN roles r ON r.id = ur.role_id
         WHERE starts_with(ur.source, ${sourcePrefix})
           AND (${after === undefined} OR (ur.user_id::text, r.name, ur.source) > (${after?.userId ?? ''}, ${after?.role ?? ''}, ${after?.source ?? ''}))
         ORDER BY ur.user_id::text, r.name, ur.source
         LIMIT ${limit + 1}`;
      return { grants: rows.slice(0, limit), hasMore: rows.length > limit };
    },

    /** Idempotent revoke of one source's grant; other sources' grants of the role stay. */
    async revokeFromSource(
      userId: string,
      roleName: string,
      source: string,
      change: GrantChange = {},
    ): Promise<void> {
      const role = await db.role.findUnique({ where: { name: roleName } });
      if (!role) return;
      await db.$transaction(async (tx) => {
        const { count } = await tx.userRole.deleteMany({ where: { userId, roleId: role.id, source } });
        if (count === 0) return;
        await tx.auditEntry.createMany({
          data: [
            auditRow({
              userId,
              action: 'role_revoked',
              role: roleName,
              source,
              actor: change.actor,
              cause: change.cause,
            }),
          ],
        });
      });
    },
  };
}

export type RolesService = ReturnType<typeof createRolesService>;
