/**
 * What has to be true of the database before the service answers: the
 * schema migrated, the built-in roles present, the superuser present.
 */
import { ensureDatabase } from '@tollgate/migrate';
import type { Config } from './config.js';
import { migrateAuthDatabase } from './db/migrate.js';
import { type Db, isUniqueViolation } from './db/prisma.js';
import { createPasswordHasher } from './domain/passwords/password-hasher.js';
import { ADMIN_ROLE, createRolesService, MANUAL_SOURCE } from './domain/roles/roles.service.js';
import { createUsersRepository } from './domain/users/users.repository.js';

export type Log = (message: string) => void;

/** Creates the superuser, or makes sure an existing user of that login is an admin. Never changes a password. */
export async function ensureSuperuser(
  db: Db,
  admin: { login: string; password: string; email: string },
  log: Log,
) {
  const users = createUsersRepository(db);
  const roles = createRolesService(db);
  await roles.seedBuiltIns();
  let user = await users.findByLogin(admin.login);
  if (!user) {
    const hasher = await createPasswordHasher();
    try {
      user = await users.create({
        login: admin.login,
        email: admin.email,
        passwordHash: await hasher.hash(admin.password),
      });
      log(`created superuser "${admin.login}"`);
    } catch (error) {
      // Another replica starting at the same moment created it first: use theirs.
      if (!isUniqueViolation(error)) throw error;
      user = await users.findByLogin(admin.login);
      if (!user) throw error;
    }
  }
  const role = await db.role.findUniqueOrThrow({ where: { name: ADMIN_ROLE } });
  await db.userRole.createMany({
    data: [{ userId: user.id, roleId: role.id, source: MANUAL_SOURCE }],
    skipDuplicates: true,
  });
  return user;
}

/** The database exists, is migrated, and has the built-in roles. */
export async function prepareDatabase(config: Config, db: Db, log: Log): Promise<void> {
  if (await ensureDatabase(config.databaseUrl)) log('created the database');
  const { applied } = await migrateAuthDatabase(config.databaseUrl, log);
  if (applied.length === 0) log('database schema is up to date');
  await createRolesService(db).seedBuiltIns();
}

/** What the service does before listening: prepareDatabase, then the configured superuser. */
export async function bootstrapDatabase(config: Config, db: Db, log: Log): Promise<void> {
  await prepareDatabase(config, db, log);
  await ensureSuperuser(db, config.admin, log);
}
