/**
 * npm run -w @tollgate/auth create-superuser [-- --login L --email E --reset]
 * Creates a user with the admin role (or gives an existing user the role;
 * with --reset, also sets their password and ends their sessions).
 * The password is read from ADMIN_PASSWORD or prompted for; never from argv,
 * where it would land in shell history and process lists.
 */

import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ensureSuperuser, prepareDatabase } from '../bootstrap.js';
import { loadConfig } from '../config.js';
import { createPrismaClient } from '../db/prisma.js';
import { checkPassword, describePasswordProblem } from '../domain/passwords/password-policy.js';

const { values } = parseArgs({
  options: { login: { type: 'string' }, email: { type: 'string' }, reset: { type: 'boolean' } },
});
const config = loadConfig();
const login = values.login ?? config.admin.login;
const email = values.email ?? (values.login ? `${values.login}@tollgate.local` : config.admin.email);

async function readPassword(): Promise<string> {
  if (config.admin.passwordGiven) return config.admin.password;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(`password for ${login}: `);
  } finally {
    rl.close();
  }
}

const db = createPrismaClient(config.databaseUrl);
try {
  await prepareDatabase(config, db, (m) => console.error(m));
  const password = await readPassword();
  const problem = config.env === 'production' ? checkPassword(password) : undefined;
  if (problem) throw new Error(describePasswordProblem(problem));
  const user = await ensureSuperuser(db, { login, email, password }, (m) => console.error(m), {
    reset: values.reset === true,
  });
  console.log(`superuser ready: ${user.login} (${user.id})`);
} finally {
  await db.$disconnect();
}
