/** npm run -w @tollgate/billing migrate: applies pending migrations to DATABASE_URL. */
import { loadConfig } from '../config.js';
import { migrateBillingDatabase } from '../db/migrate.js';

const config = loadConfig();
const { applied, alreadyApplied } = await migrateBillingDatabase(config.databaseUrl, (m) => console.log(m));
console.log(`${applied.length} applied, ${alreadyApplied} already applied`);
