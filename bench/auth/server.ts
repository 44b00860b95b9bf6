/**
 * The auth service as the benchmark runs it: the real app (real Postgres and
 * Redis) plus a hello-world route on the same server as the baseline.
 * Prints its URL on stdout once listening.
 */
import { buildApp } from '../../services/auth/src/app.js';
import { loadConfig } from '../../services/auth/src/config.js';

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'test',
  // The benchmark registers and logs in thousands of times from one address.
  AUTH_RATE_LIMIT_PER_MINUTE: '100000000',
  ACCOUNT_RATE_LIMIT_PER_HOUR: '100000000',
  LOCKOUT_THRESHOLD: '100000000',
});
// Logging as in production (info, one line per request and response), to a
// sink the parent discards: the baseline route pays for it too.
const app = await buildApp(config);
app.get('/bench/hello', async () => ({ hello: 'world' }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`URL ${url}\n`);
process.on('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});
