/**
 * Test provisioning shared by every workspace: each test run gets its own
 * freshly created PostgreSQL database and its own Redis key prefix, so runs
 * never collide with each other or touch development data.
 *
 * Where the servers come from, in order:
 * 1. TEST_DATABASE_URL / TEST_REDIS_URL (a server this run may create databases on);
 * 2. Testcontainers, when a Docker engine answers;
 * 3. otherwise a clear error naming both options.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';

export class TestInfrastructureMissing extends Error {
  constructor(what: 'PostgreSQL' | 'Redis', envVar: string, cause: unknown) {
    super(
      `No ${what} for the tests: set ${envVar} (e.g. ${
        what === 'PostgreSQL' ? 'postgresql://postgres@127.0.0.1:5432/postgres' : 'redis://127.0.0.1:6379'
      }) or start a Docker engine so Testcontainers can run one. (${(cause as Error)?.message ?? cause})`,
    );
    this.name = 'TestInfrastructureMissing';
  }
}

export interface ProvisionedDatabase {
  /** URL of the fresh database. */
  url: string;
  name: string;
  /** Drops the database (and stops the container if one was started). */
  release(): Promise<void>;
}

export interface ProvisionedRedis {
  url: string;
  /** A prefix unique to this run; every key the code under test writes must carry it. */
  keyPrefix: string;
  release(): Promise<void>;
}

type Env = Record<string, string | undefined>;

function runId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

async function startContainer<T>(load: () => Promise<T>, what: 'PostgreSQL' | 'Redis', envVar: string) {
  try {
    return await load();
  } catch (error) {
    throw new TestInfrastructureMissing(what, envVar, error);
  }
}

/** Creates a new, empty database named `tg_<label>_<run id>`. */
export async function provisionDatabase(label: string, env: Env = process.env): Promise<ProvisionedDatabase> {
  let serverUrl = env.TEST_DATABASE_URL;
  let stopContainer = async () => {};
  if (!serverUrl) {
    const container = await startContainer(
      async () => {
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        return new PostgreSqlContainer('postgres:16-alpine').start();
      },
      'PostgreSQL',
      'TEST_DATABASE_URL',
    );
    serverUrl = container.getConnectionUri();
    stopContainer = async () => {
      await container.stop();
    };
  }
  const name = `tg_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${runId()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  try {
    await admin.connect();
  } catch (error) {
    throw new TestInfrastructureMissing('PostgreSQL', 'TEST_DATABASE_URL', error);
  }
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async release() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
      await stopContainer();
    },
  };
}

/** Gives this run a Redis server and a key prefix no other run uses; release() deletes its keys. */
export async function provisionRedis(label: string, env: Env = process.env): Promise<ProvisionedRedis> {
  let url = env.TEST_REDIS_URL;
  let stopContainer = async () => {};
  if (!url) {
    const container = await startContainer(
      async () => {
        const { RedisContainer } = await import('@testcontainers/redis');
        return new RedisContainer('redis:7-alpine').start();
      },
      'Redis',
      'TEST_REDIS_URL',
    );
    url = container.getConnectionUrl();
    stopContainer = async () => {
      await container.stop();
    };
  }
  const { Redis } = await import('ioredis');
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  probe.on('error', () => {}); // surfaced by connect()/ping() below
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    probe.disconnect();
    throw new TestInfrastructureMissing('Redis', 'TEST_REDIS_URL', error);
  }
  const keyPrefix = `test:${label}:${runId()}:`;
  const serverUrl = url;
  return {
    url: serverUrl,
    keyPrefix,
    async release() {
      let cursor = '0';
      do {
        const [next, keys] = await probe.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await probe.del(...keys);
      } while (cursor !== '0');
      probe.disconnect();
      await stopContainer();
    },
  };
}

/** A TCP port nothing listens on right now (for servers a test must know the port of before they start). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
export * from './mail-catcher.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export * from './throwaway-redis.js';
