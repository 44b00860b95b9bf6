/**
 * The Kubernetes layout on this machine (issue 15 item 4): 2 auth, 3 billing
 * web (RUN_WORKER=false) and 2 billing worker (RUN_WORKER=true) processes,
 * each started with the environment its Deployment in the rendered dev
 * overlay carries (ConfigMaps and literal env, deploy/kubernetes/), behind the
 * real nginx on the repository's template, after a migration "Job" ran once.
 * What a cluster would provide instead is printed: Secret values (made up
 * here, for exactly the keys secrets.example/ lists), addresses (loopback
 * ports instead of Service names) and the few settings a test needs.
 *
 * The roles of a cluster: nginx's upstream list is the headless Services'
 * endpoints (a replica is in it once ready, and leaves it when it
 * terminates); billing's AUTH_URL is a round-robin TCP proxy over the ready
 * auth replicas, as kube-proxy is for the auth Service.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { freePort, provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import { type K8sObject, parseEnvFile, podContainers, render } from './kustomize.js';
import { type RunningNginx, startNginx } from './nginx.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const deploy = path.join(root, 'deploy', 'kubernetes');

/** The environment a Deployment's first container gets from its ConfigMaps and literal env. */
export function manifestEnv(objects: K8sObject[], deployment: string): Record<string, string> {
  const workload = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === deployment);
  const container = workload && podContainers(workload)[0];
  if (!container) throw new Error(`Deployment ${deployment} not rendered`);
  const env: Record<string, string> = {};
  for (const from of (container.envFrom ?? []) as { configMapRef?: { name: string } }[]) {
    if (!from.configMapRef) continue;
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name);
    if (!map) throw new Error(`ConfigMap ${from.configMapRef.name} not rendered`);
    Object.assign(env, map.data as Record<string, string>);
  }
  for (const entry of (container.env ?? []) as { name: string; value?: string }[])
    if (entry.value !== undefined) env[entry.name] = entry.value;
  return env;
}

/** The keys a Secret holds (deploy/kubernetes/secrets.example/<file>). */
export async function secretKeys(file: string): Promise<string[]> {
  return Object.keys(parseEnvFile(await readFile(path.join(deploy, 'secrets.example', file), 'utf8')));
}

export interface Replica {
  name: string;
  /** host:port, as nginx's upstream servers and the proxy name it. */
  address: string;
  url: string;
  start(): Promise<void>;
  /** SIGTERM, then the exit: the replica drains first (SHUTDOWN_DRAIN_SECONDS). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
  tail(): string;
  /** Resident set size now, in MiB (/proc/<pid>/status VmRSS). */
  rssMiB(): Promise<number>;
}

function replica(name: string, cwd: string, port: number, env: Record<string, string>): Replica {
  let proc: ChildProcess | undefined;
  let output: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  const exited = (p: ChildProcess) =>
    p.exitCode !== null || p.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => p.once('exit', () => resolve()));
  const handle: Replica = {
    name,
    address: `127.0.0.1:${port}`,
    url,
    async start() {
      proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd,
        env: { PATH: process.env.PATH ?? '', ...env, HOST: '127.0.0.1', PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => {
        output.push(...chunk.toString().split('\n').filter(Boolean));
        if (output.length > 200) output = output.slice(-200);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      const started = Date.now();
      // Ready, as a readiness probe sees it, before it may get traffic.
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`${name} exited at start:\n${handle.tail()}`);
        const ready = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
          () => undefined,
        );
        if (ready?.status === 200) return;
        // Generous: on a 2-core machine shared with other work a billing start has taken over a minute.
        if (Date.now() - started > 300_000)
          throw new Error(
            `${name} not ready after 300 s (pid ${proc.pid}, last answer ${ready?.status ?? 'none'}):\n${handle.tail()}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!proc) return { code: null, signal: null };
      const p = proc;
      p.kill('SIGTERM');
      await exited(p);
      return { code: p.exitCode, signal: p.signalCode };
    },
    async kill() {
      if (!proc) return;
      proc.kill('SIGKILL');
      await exited(proc);
    },
    tail: () => output.slice(-40).join('\n'),
    async rssMiB() {
      const status = await readFile(`/proc/${proc?.pid}/status`, 'utf8');
      return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0) / 1024;
    },
  };
  return handle;
}

/** kube-proxy for one Service: each new connection to the next ready endpoint, round robin. */
async function serviceProxy() {
  let endpoints: string[] = [];
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const target = endpoints[next++ % Math.max(endpoints.length, 1)];
    if (!target) return client.destroy();
    const [host, port] = target.split(':');
    const upstream = tcpConnect({ host, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    setEndpoints(list: string[]) {
      endpoints = [...list];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

export type Role = 'auth' | 'billing-web' | 'billing-worker';

export interface ReplicaSystem {
  gateway: RunningNginx;
  emulator: RunningEmulator;
  replicas: Record<Role, Replica[]>;
  adminPassword: string;
  billingDatabaseUrl: string;
  authDatabaseUrl: string;
  /** What the test set that a cluster would have set otherwise. */
  overrides: Record<Role, Record<string, string>>;
  /** The migration Job: auth's, then billing's migrate command, once. */
  migrationLog: string;
  /**
   * A rolling update of one Deployment: per replica, a new one is started
   * and waits until ready, joins the endpoints, the old one gets SIGTERM and
   * leaves the endpoints `endpointLagMs` later (as endpoint removal reaches
   * nginx after the signal), then exits after draining. Returns the seconds.
   */
  rollingRestart(role: Role): Promise<number>;
  close(): Promise<void>;
}

async function runOnce(cwd: string, entry: string, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${entry} in ${cwd} exited ${code}:\n${out}`);
  return out;
}

export async function startReplicaSystem(
  counts: Record<Role, number> = { auth: 2, 'billing-web': 3, 'billing-worker': 2 },
  endpointLagMs = 300,
): Promise<ReplicaSystem> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const objects = render(path.join(deploy, 'overlays', 'dev'));
    const [authDb, billingDb, redis] = await Promise.all([
      provisionDatabase('replicas_auth'),
      provisionDatabase('replicas_billing'),
      provisionRedis('replicas'),
    ]);
    cleanups.push(
      () => authDb.release(),
      () => billingDb.release(),
      () => redis.release(),
    );
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const emulator = await startEmulator({ webhookUrl: `${gatewayUrl}/api/v1/webhook` });
    cleanups.push(() => emulator.close());
    const authService = await serviceProxy();
    cleanups.push(() => authService.close());

    // The Secrets: made-up values for exactly the keys the examples list.
    const serviceSecret = randomBytes(24).toString('hex');
    const adminPassword = `replica drill ${randomBytes(6).toString('hex')}`;
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const signingKeys = JSON.stringify([{ ...jwk, kid: randomBytes(8).toString('hex'), alg: 'EdDSA' }]);
    const secrets = {
      auth: {
        DATABASE_URL: authDb.url,
        REDIS_URL: redis.url,
        JWT_SIGNING_KEYS: signingKeys,
        TOTP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        SERVICE_CLIENTS: `billing:${serviceSecret}:roles:write`,
        ADMIN_PASSWORD: adminPassword,
      },
      billing: {
        DATABASE_URL: billingDb.url,
        REDIS_URL: redis.url,
        AUTH_CLIENT_SECRET: serviceSecret,
        STRIPE_SECRET_KEY: emulator.apiKey,
        STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
        ADMIN_PASSWORD: adminPassword,
        ADMIN_COOKIE_SECRET: randomBytes(24).toString('hex'),
      },
    };
    for (const [service, values] of Object.entries(secrets)) {
      const keys = await secretKeys(`${service}.env`);
      if (JSON.stringify(Object.keys(values).sort()) !== JSON.stringify(keys.sort()))
        throw new Error(`${service}: the test's Secret keys differ from secrets.example/${service}.env`);
    }

    // Addresses (loopback instead of Service names) and what a test needs.
    const common = {
      // Every test run on its own keys in the shared Redis.
      REDIS_KEY_PREFIX: redis.keyPrefix,
      // The dev overlay logs at debug; the test prints the tail of a failing replica.
      LOG_LEVEL: 'warn',
      // nginx reaches the replicas from 127.0.0.1, not from a pod address.
      TRUST_PROXY: 'loopback',
      // Endpoint removal reaches nginx endpointLagMs after SIGTERM here, not seconds.
      SHUTDOWN_DRAIN_SECONDS: '2',
      // Seven processes and other engineers' tests share one Postgres (100 connections).
      DATABASE_POOL_MAX: '4',
    };
    const overrides: Record<Role, Record<string, string>> = {
      auth: {
        ...common,
        // Every test user registers and logs in from one address.
        AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
        ACCOUNT_RATE_LIMIT_PER_HOUR: '1000000',
      },
      'billing-web': {
        ...common,
        AUTH_URL: authService.url,
        PUBLIC_URL: gatewayUrl,
        STRIPE_API_URL: emulator.url,
        QUEUE_POOL_MAX: '2',
      },
      'billing-worker': {
        ...common,
        AUTH_URL: authService.url,
        PUBLIC_URL: gatewayUrl,
        STRIPE_API_URL: emulator.url,
        QUEUE_POOL_MAX: '2',
        WORKER_POLL_SECONDS: '0.5',
      },
    };
    const envOf = (role: Role) => ({
      ...manifestEnv(objects, role),
      ...(role === 'auth' ? secrets.auth : secrets.billing),
      ...overrides[role],
    });
    const cwdOf = (role: Role) => path.join(root, 'services', role === 'auth' ? 'auth' : 'billing');

    // The migrate Job: once, before any replica.
    const migrationLog =
      (await runOnce(cwdOf('auth'), 'src/cli/migrate.ts', envOf('auth'))) +
      (await runOnce(cwdOf('billing-web'), 'src/cli/migrate.ts', envOf('billing-web')));

    let serial = 0;
    const make = async (role: Role) =>
      replica(`${role}-${++serial}`, cwdOf(role), await freePort(), envOf(role));
    const replicas: Record<Role, Replica[]> = { auth: [], 'billing-web': [], 'billing-worker': [] };
    cleanups.push(async () => {
      for (const list of Object.values(replicas)) await Promise.all(list.map((r) => r.kill()));
    });
    // Auth first (billing's start asks it for nothing, but its readiness probe does).
    for (const role of ['auth', 'billing-web', 'billing-worker'] as const) {
      const started = await Promise.all(Array.from({ length: counts[role] }, () => make(role)));
      replicas[role].push(...started);
      await Promise.all(started.map((r) => r.start()));
      if (role === 'auth') authService.setEndpoints(started.map((r) => r.address));
    }

    const gateway = await startNginx({
      authUpstream: replicas.auth.map((r) => r.address),
      billingUpstream: replicas['billing-web'].map((r) => r.address),
      port: gatewayPort,
      // Endpoint changes reload nginx here (Debian's 1.22 has no `resolve`;
      // in Kubernetes nginx re-resolves and is not reloaded): without client
      // keep-alive a reload cuts no idle connection a client is about to reuse.
      clientKeepalive: false,
    });
    cleanups.push(() => gateway.stop());

    const publish = async () => {
      authService.setEndpoints(replicas.auth.map((r) => r.address));
      await gateway.setUpstreams({
        auth: replicas.auth.map((r) => r.address),
        billing: replicas['billing-web'].map((r) => r.address),
      });
    };

    const rollingRestart = async (role: Role) => {
      const began = performance.now();
      for (const old of [...replicas[role]]) {
        const fresh = await make(role);
        replicas[role].push(fresh);
        await fresh.start();
        await publish();
        const stopping = old.stop();
        await new Promise((r) => setTimeout(r, endpointLagMs));
        replicas[role].splice(replicas[role].indexOf(old), 1);
        await publish();
        const exit = await stopping;
        if (exit.code !== 0)
          throw new Error(`${old.name} exited ${exit.code ?? exit.signal}:\n${old.tail()}`);
      }
      return (performance.now() - began) / 1000;
    };

    return {
      gateway,
      emulator,
      replicas,
      adminPassword,
      billingDatabaseUrl: billingDb.url,
      authDatabaseUrl: authDb.url,
      overrides,
      migrationLog,
      rollingRestart,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
