/** npm run -w @tollgate/auth migrate: applies pending migrations to DATABASE_URL. */
import { loadConfig } from '../config.js';
import { migrateAuthDatabase } from '../db/migrate.js';

const config = loadConfig();
const { applied, alreadyApplied } = await migrateAuthDatabase(config.databaseUrl, (m) => console.log(m));
console.log(`${applied.length} applied, ${alreadyApplied} already applied`);
