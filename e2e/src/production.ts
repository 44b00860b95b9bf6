/**
 * The services as production runs them: `npm run build`'s output started with
 * plain node (no tsx), NODE_ENV=production, and the settings production
 * requires (secrets of the right length, signing keys in the environment).
 * Used by test/production-build.test.ts and by the memory and start-up benches.
 *
 *   const emulator = await startBuilt('stripe-emulator', emulatorEnv(secrets, { port }));
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export type BuiltService = 'auth' | 'billing' | 'stripe-emulator';
type Env = Record<string, string>;

/** The launcher every production start goes through (runtime settings in one place). */
export const RUN_NODE = path.join(ROOT, 'tools', 'run-node.sh');

/** `node dist/server.js` of a service, as its `npm start` and its image run it. */
export function builtEntry(service: BuiltService): string {
  return path.join(ROOT, 'services', service, 'dist', 'server.js');
}

/** Every secret production checks, generated fresh (long enough, never a development default). */
export interface ProductionSecrets {
  signingKey: JWK;
  totpKey: string;
  adminPassword: string;
  serviceSecret: string;
  cookieSecret: string;
  stripeKey: string;
  webhookSecret: string;
}

export async function productionSecrets(): Promise<ProductionSecrets> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const signingKey = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'EdDSA', use: 'sig' };
  const secret = () => randomBytes(18).toString('base64url');
  return {
    signingKey,
    totpKey: randomBytes(32).toString('base64'),
    adminPassword: secret(),
    serviceSecret: secret(),
    cookieSecret: secret() + secret(),
    stripeKey: `sk_test_${secret()}`,
    webhookSecret: `whsec_${secret()}`,
  };
}

const common = (port: number): Env => ({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: String(port),
  LOG_LEVEL: 'warn',
});

export function authEnv(
  s: ProductionSecrets,
  o: { port: number; databaseUrl: string; redisUrl: string; redisKeyPrefix: string },
): Env {
  return {
    ...common(o.port),
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    REDIS_KEY_PREFIX: o.redisKeyPrefix,
    JWT_SIGNING_KEYS: JSON.stringify([s.signingKey]),
    TOTP_ENCRYPTION_KEY: s.totpKey,
    ADMIN_PASSWORD: s.adminPassword,
    SERVICE_CLIENTS: `billing:${s.serviceSecret}:roles:write`,
  };
}

export function billingEnv(
  s: ProductionSecrets,
  o: {
    port: number;
    databaseUrl: string;
    redisUrl: string;
    redisKeyPrefix: string;
    authUrl: string;
    stripeUrl: string;
  },
): Env {
  return {
    ...common(o.port),
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl,
    REDIS_KEY_PREFIX: o.redisKeyPrefix,
    AUTH_URL: o.authUrl,
    AUTH_CLIENT_ID: 'billing',
    AUTH_CLIENT_SECRET: s.serviceSecret,
    PUBLIC_URL: `http://127.0.0.1:${o.port}`,
    STRIPE_API_URL: o.stripeUrl,
    STRIPE_SECRET_KEY: s.stripeKey,
    STRIPE_WEBHOOK_SECRET: s.webhookSecret,
    ADMIN_PASSWORD: s.adminPassword,
    ADMIN_COOKIE_SECRET: s.cookieSecret,
  };
}

export function emulatorEnv(s: ProductionSecrets, o: { port: number; webhookUrl?: string }): Env {
  return {
    ...common(o.port),
    EMULATOR_API_KEY: s.stripeKey,
    EMULATOR_WEBHOOK_SECRET: s.webhookSecret,
    ...(o.webhookUrl ? { EMULATOR_WEBHOOK_URL: o.webhookUrl } : {}),
  };
}

export interface RunningService {
  url: string;
  pid: number;
  child: ChildProcess;
  /** From spawn to the first 200 from /health/ready. */
  readyMs: number;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `tools/run-node.sh services/<service>/dist/server.js` (as its `npm start`
 * does) with only `env` (and PATH), and waits until /health/ready answers 200.
 * `nodeArgs` go to node before the entry point.
 */
export async function startBuilt(
  service: BuiltService,
  env: Env,
  options: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<RunningService> {
  const entry = builtEntry(service);
  if (!existsSync(entry))
    throw new Error(`${path.relative(ROOT, entry)} is missing: run npm run build first`);
  const started = performance.now();
  // tools/run-node.sh execs node: the child's pid is node's.
  const child = spawn(RUN_NODE, [...(options.nodeArgs ?? []), entry], {
    cwd: path.dirname(path.dirname(entry)),
    // This node first on the PATH (the one the tests run on).
    env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let readyMs = 0;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${service} exited (${child.exitCode}) before ready:\n${output}`);
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      readyMs = performance.now() - started;
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${service} not ready after ${options.timeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    url,
    pid: child.pid!,
    child,
    readyMs,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
