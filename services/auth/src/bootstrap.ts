/**
 * What has to be true of the database before the service answers: the
 * schema migrated, the built-in roles present, the superuser present.
 */
import { ensureDatabase } from '@tollgate/migrate';
import { type Config, DEV_ADMIN_PASSWORD } from './config.js';
import { migrateAuthDatabase } from './db/migrate.js';
import { type Db, isUniqueViolation } from './db/prisma.js';
import { createPasswordHasher } from './domain/passwords/password-hasher.js';
import { ADMIN_ROLE, createRolesService, MANUAL_SOURCE } from './domain/roles/roles.service.js';
import { createSessionsRepository } from './domain/sessions/sessions.repository.js';
import { createUsersRepository } from './domain/users/users.repository.js';

export type Log = (message: string) => void;

/** Passwords that development set-ups hand out: no superuser may keep one in production. */
export const DEV_DEFAULT_PASSWORDS: readonly string[] = [DEV_ADMIN_PASSWORD];

/** The service must not start; `message` tells the operator why and what to do. */
export class StartupRefused extends Error {
  override name = 'StartupRefused';
}

/**
 * Sets a user's password and ends their sessions (refresh tokens issued
 * under the old password stop working).
 */
async function setPassword(db: Db, userId: string, password: string, reason: string): Promise<void> {
  const hasher = await createPasswordHasher();
  await createUsersRepository(db).update(userId, { passwordHash: await hasher.hash(password) });
  await createSessionsRepository(db).end(userId, {}, reason);
}

/**
 * Creates the superuser, or makes sure an existing user of that login is an
 * admin. Changes an existing user's password only when `reset` is set
 * (`create-superuser --reset`).
 */
export async function ensureSuperuser(
  db: Db,
  admin: { login: string; password: string; email: string },
  log: Log,
  options: { reset?: boolean } = {},
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
  } else if (options.reset) {
    await setPassword(db, user.id, admin.password, 'password_reset');
    log(`reset the password of "${user.login}" and ended their sessions`);
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

/**
 * Production must not run with a superuser whose password is a development
 * default (a database first started in development keeps admin/admin). The
 * configured superuser's is rotated to ADMIN_PASSWORD when that was set; any
 * other such superuser stops the start until an operator resets it.
 */
export async function refuseDevSuperuserPasswords(config: Config, db: Db, log: Log): Promise<void> {
  if (config.env !== 'production') return;
  const hasher = await createPasswordHasher();
  const blocked: string[] = [];
  for (const user of await createUsersRepository(db).findHoldersOf(ADMIN_ROLE)) {
    let isDefault = false;
    if (!user.passwordHash) continue;
    for (const candidate of DEV_DEFAULT_PASSWORDS) {
      if ((await hasher.verify(user.passwordHash, candidate)).ok) isDefault = true;
    }
    if (!isDefault) continue;
    if (user.login === config.admin.login.toLowerCase() && config.admin.passwordGiven) {
      await setPassword(db, user.id, config.admin.password, 'password_rotated');
      log(`superuser "${user.login}" had a development default password: rotated to ADMIN_PASSWORD`);
    } else {
      blocked.push(user.login);
    }
  }
  if (blocked.length > 0) {
    const names = blocked.map((login) => `"${login}"`).join(', ');
    throw new StartupRefused(
      `refusing to start in production: superuser ${names} still has a development default password. ` +
        `Set a new one with \`npm run -w @tollgate/auth create-superuser -- --login <login> --reset\` ` +
        `(or start with ADMIN_LOGIN=<login> and ADMIN_PASSWORD set, which rotates it), or take away its admin role.`,
    );
  }
}

/**
 * What the service does before listening: prepareDatabase, the configured
 * superuser, and (in production) no superuser left with a development password.
 */
export async function bootstrapDatabase(config: Config, db: Db, log: Log): Promise<void> {
  await prepareDatabase(config, db, log);
  await ensureSuperuser(db, config.admin, log);
  await refuseDevSuperuserPasswords(config, db, log);
}
