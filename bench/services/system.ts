/**
 * auth, billing and the Stripe emulator as separate processes in production
 * mode (NODE_ENV=production, with the secrets production insists on), on a
 * database each and a Redis prefix of their own: what the memory and
 * start-up benches measure, one service at a time.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import { generatePrivateJwk } from '../../services/auth/src/domain/tokens/signing-keys.js';
import { type RunningService, type ServiceName, startService } from '../lib/services.js';

const SECRET = 'bench-billing-client-secret-0123456789';
const ADMIN_PASSWORD = 'bench admin passphrase 2026';
export const PASSWORD = 'benchmark passphrase 2026';

export interface BenchSystem {
  env: Record<ServiceName, Record<string, string>>;
  ports: Record<ServiceName, number>;
  start(name: ServiceName): Promise<RunningService>;
  webhookSecret: string;
  apiKey: string;
  close(): Promise<void>;
}

export async function benchSystem(): Promise<BenchSystem> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const [authDb, billingDb, redis] = await Promise.all([
    provisionDatabase('bench_mem_auth'),
    provisionDatabase('bench_mem_billing'),
    provisionRedis('bench_mem'),
  ]);
  cleanups.push(
    () => authDb.release(),
    () => billingDb.release(),
    () => redis.release(),
  );
  const keysDir = await mkdtemp(path.join(tmpdir(), 'tollgate-bench-'));
  cleanups.push(() => rm(keysDir, { recursive: true, force: true }));
  const ports = { auth: await freePort(), billing: await freePort(), 'stripe-emulator': await freePort() };
  const apiKey = `sk_test_bench${randomBytes(8).toString('hex')}`;
  const webhookSecret = `whsec_bench${randomBytes(12).toString('hex')}`;
  const env: BenchSystem['env'] = {
    auth: {
      NODE_ENV: 'production',
      DATABASE_URL: authDb.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      JWT_SIGNING_KEYS: JSON.stringify([await generatePrivateJwk()]),
      TOTP_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SERVICE_CLIENTS: `billing:${SECRET}:roles:write`,
      ADMIN_LOGIN: 'root',
      ADMIN_PASSWORD,
      // The mixed load logs in from one address.
      AUTH_RATE_LIMIT_PER_MINUTE: '100000000',
      ACCOUNT_RATE_LIMIT_PER_HOUR: '100000000',
      LOCKOUT_THRESHOLD: '100000000',
      UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '4',
    },
    billing: {
      NODE_ENV: 'production',
      DATABASE_URL: billingDb.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_URL: `http://127.0.0.1:${ports.auth}`,
      AUTH_CLIENT_SECRET: SECRET,
      STRIPE_SECRET_KEY: apiKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_URL: `http://127.0.0.1:${ports['stripe-emulator']}`,
      PUBLIC_URL: `http://127.0.0.1:${ports.billing}`,
      ADMIN_LOGIN: 'operator',
      ADMIN_PASSWORD,
      ADMIN_COOKIE_SECRET: randomBytes(24).toString('hex'),
    },
    'stripe-emulator': {
      NODE_ENV: 'production',
      EMULATOR_API_KEY: apiKey,
      EMULATOR_WEBHOOK_SECRET: webhookSecret,
      EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${ports.billing}/api/v1/webhook`,
      LOG_LEVEL: 'warn',
    },
  };
  const running = new Set<RunningService>();
  cleanups.push(async () => {
    for (const service of running) await service.stop();
  });
  return {
    env,
    ports,
    apiKey,
    webhookSecret,
    async start(name) {
      const service = await startService(name, ports[name], env[name]);
      running.add(service);
      const stop = service.stop;
      service.stop = async () => {
        running.delete(service);
        await stop();
      };
      return service;
    },
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(e));
    },
  };
}

/** A Stripe-Signature header for `body`, as the emulator (and Stripe) sign it. */
export function signWebhook(body: string, secret: string): string {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** A webhook event billing accepts and has no handler for: ingest without side effects. */
export function unhandledEvent(id: string): string {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    type: 'balance.available',
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { object: 'balance', available: [], pending: [] } },
  });
}
