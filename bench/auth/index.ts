/**
 * npm run bench:auth
 *
 * Measures, in one run on this machine:
 *  1. password logins/s through HTTP against raw argon2id verifications/s at
 *     the same parameters and concurrency (goal: logins >= 85% of raw);
 *  2. authorized GET /v1/auth/me req/s against a hello-world route of the
 *     same server (goal: >= 40%), with p99 latency.
 * Needs PostgreSQL and Redis: TEST_DATABASE_URL / TEST_REDIS_URL (a fresh
 * database is created and dropped, keys are namespaced).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import argon2 from 'argon2';
import autocannon from 'autocannon';
import { migrateAuthDatabase } from '../../services/auth/src/db/migrate.js';
import { OWASP_ARGON2ID } from '../../services/auth/src/domain/passwords/password-hasher.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
// This machine's speed drifts by ±10-20% over a minute (a shared VM): each
// figure is measured once per round, rounds interleave a figure and its
// baseline, and the medians are reported with each round's ratio.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PASSWORD = 'benchmark passphrase 2026';
// libuv runs argon2 on its thread pool (UV_THREADPOOL_SIZE, which the npm
// script sets to the core count for this process and the server alike). Raw
// hashes run exactly one per pool thread; logins get enough connections to
// keep the pool busy while requests wait on the database and Redis.
const POOL = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const LOGIN_CONNECTIONS = 16;
const READ_CONNECTIONS = 16;

function bar(label: string) {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  if (!tty) process.stderr.write(`  ${label}...\n`);
  const timer = setInterval(() => {
    const s = Math.min(DURATION, Math.floor((Date.now() - started) / 1000));
    const filled = Math.round((s / DURATION) * 20);
    if (tty)
      process.stderr.write(
        `\r  ${label} [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${s}/${DURATION} s`,
      );
  }, 500);
  return () => {
    clearInterval(timer);
    if (tty) process.stderr.write(`\r  ${label} done${' '.repeat(30)}\n`);
  };
}

async function rawArgon2PerSecond(concurrency: number): Promise<number> {
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id as 2, ...OWASP_ARGON2ID });
  const done = bar(`raw argon2id verify x${concurrency}`);
  const deadline = Date.now() + DURATION * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await argon2.verify(hash, PASSWORD);
        count++;
      }
    }),
  );
  done();
  return count / DURATION;
}

async function cannon(label: string, options: autocannon.Options) {
  const done = bar(label);
  const result = await autocannon({ duration: DURATION, ...options });
  done();
  const ok = result['2xx'];
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${label}: ${result.non2xx} non-2xx, ${result.errors} errors of ${ok + result.non2xx}`);
  }
  return { rps: ok / DURATION, p99: result.latency.p99, p50: result.latency.p50 };
}

const database = await provisionDatabase('bench_auth');
const redis = await provisionRedis('bench_auth');
const server = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'server.ts')], {
  env: {
    ...process.env,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
  },
  // stdout: the server's request log, discarded; stderr: its URL, then errors.
  stdio: ['ignore', 'ignore', 'pipe'],
});
try {
  await migrateAuthDatabase(database.url);
  const lines = createInterface({ input: server.stderr! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('URL ')) resolve(line.slice(4));
      else process.stderr.write(`server: ${line}\n`);
    });
    server.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const post = (p: string, body: unknown) =>
    fetch(`${url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/v1/auth/register', { login: 'bench', password: PASSWORD, email: 'bench@example.com' });
  const tokens = (await (await post('/v1/auth/login', { login: 'bench', password: PASSWORD })).json()) as {
    access_token: string;
  };

  console.error(`machine: ${availableParallelism()} cores, node ${process.version}`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rounds: { raw: number; login: number; loginP99: number; hello: number; me: number; meP99: number }[] =
    [];
  for (let round = 1; round <= ROUNDS; round++) {
    const raw = await rawArgon2PerSecond(POOL);
    const login = await cannon(`POST /v1/auth/login x${LOGIN_CONNECTIONS} (round ${round})`, {
      url: `${url}/v1/auth/login`,
      method: 'POST',
      connections: LOGIN_CONNECTIONS,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'bench', password: PASSWORD }),
    });
    const hello = await cannon(`GET /bench/hello (round ${round})`, {
      url: `${url}/bench/hello`,
      connections: READ_CONNECTIONS,
    });
    const me = await cannon(`GET /v1/auth/me (round ${round})`, {
      url: `${url}/v1/auth/me`,
      connections: READ_CONNECTIONS,
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    rounds.push({ raw, login: login.rps, loginP99: login.p99, hello: hello.rps, me: me.rps, meP99: me.p99 });
  }

  const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
  const each = (f: (r: (typeof rounds)[number]) => string) => rounds.map(f).join(', ');
  const raw = median(rounds.map((r) => r.raw));
  const login = median(rounds.map((r) => r.login));
  const hello = median(rounds.map((r) => r.hello));
  const me = median(rounds.map((r) => r.me));
  console.log(`thread pool ${POOL}, ${ROUNDS} rounds of ${DURATION} s; medians, then each round's ratio`);
  const rows = [
    ['raw argon2id verify (m=19456,t=2,p=1)', `${raw.toFixed(1)}/s`, '', ''],
    [
      'POST /v1/auth/login',
      `${login.toFixed(1)}/s`,
      `p99 ${median(rounds.map((r) => r.loginP99))} ms`,
      `${pct(login, raw)} of raw (goal >= 85%); rounds: ${each((r) => pct(r.login, r.raw))}`,
    ],
    ['GET /bench/hello (baseline)', `${hello.toFixed(0)}/s`, '', ''],
    [
      'GET /v1/auth/me (Bearer)',
      `${me.toFixed(0)}/s`,
      `p99 ${median(rounds.map((r) => r.meP99))} ms`,
      `${pct(me, hello)} of hello (goal >= 40%); rounds: ${each((r) => pct(r.me, r.hello))}`,
    ],
  ];
  for (const row of rows)
    console.log(`${row[0]!.padEnd(40)} ${row[1]!.padStart(10)}  ${row[2]!.padEnd(12)} ${row[3]}`);
} finally {
  server.kill('SIGTERM');
  await once(server, 'exit');
  await redis.release();
  await database.release();
}
