import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import autocannon from 'autocannon';
import { migrateAuthDatabase } from '../../services/auth/src/db/migrate.js';

const PASSWORD = 'benchmark passphrase 2026';
const database = await provisionDatabase('bench_prof');
const redis = await provisionRedis('bench_prof');
await migrateAuthDatabase(database.url);
const server = spawn(
  process.execPath,
  ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--import', 'tsx', path.join(import.meta.dirname, 'server.ts')],
  {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
const lines = createInterface({ input: server.stderr! });
const url = await new Promise<string>((resolve) =>
  lines.on('line', (l) => l.startsWith('URL ') && resolve(l.slice(4))),
);
await fetch(`${url}/v1/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ login: 'bench', password: PASSWORD, email: 'b@example.com' }),
});
const mode = process.env.MODE ?? 'login';
const r = await autocannon(
  mode === 'login'
    ? {
        url: `${url}/v1/auth/login`,
        method: 'POST',
        connections: 16,
        duration: 10,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'bench', password: PASSWORD }),
      }
    : { url: `${url}/bench/hello`, connections: 16, duration: 10 },
);
console.log(mode, r['2xx'] / 10, 'p99', r.latency.p99);
server.kill('SIGINT');
process.kill(server.pid!, 'SIGTERM');
await once(server, 'exit');
await redis.release();
await database.release();
