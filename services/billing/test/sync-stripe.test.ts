import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrateAuthDatabase } from '@tollgate/auth';
import { type RunningEmulator, startEmulator } from '@tollgate/stripe-emulator';
import { provisionDatabase } from '@tollgate/test-kit';
import pino from 'pino';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Config, loadConfig } from '../src/config.js';
import { type Billing, createBilling } from '../src/context.js';
import { migrateBillingDatabase } from '../src/db/migrate.js';
import { stripeSyncFor } from '../src/domain/sync/stripe-sync.js';
import { startWorkers, type Workers } from '../src/jobs/workers.js';
import {
  type AuthHandle,
  BASIC_MONTHLY,
  bearer,
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  rolesInAuth,
  SERVICE_SECRET,
  type Stack,
  startAuth,
  type TestUser,
} from './stack.js';

// sync-stripe runs against a Stripe account whose history billing never saw:
// an emulator with no webhook endpoint, and an empty billing database.
let database: Awaited<ReturnType<typeof provisionDatabase>>;
// Its own auth database too: reconcile looks at every subscription grant auth holds.
let authDatabase: Awaited<ReturnType<typeof provisionDatabase>>;
let auth: AuthHandle;
let emu: RunningEmulator;
let stripe: Stripe;
let config: Config;
let billing: Billing;
let workers: Workers | undefined;
let env: Record<string, string>;

const EXTRA_CUSTOMERS = 230; // more than two pages of 100

beforeAll(async () => {
  database = await provisionDatabase('billing_sync');
  await migrateBillingDatabase(database.url);
  authDatabase = await provisionDatabase('billing_sync_auth');
  await migrateAuthDatabase(authDatabase.url);
  auth = await startAuth(0, authDatabase.url);
  emu = await startEmulator({});
  stripe = new Stripe(emu.apiKey, { ...emu.stripeConfig, maxNetworkRetries: 0 });
  env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: inject('redisKeyPrefix'),
    AUTH_URL: auth.url,
    AUTH_CLIENT_SECRET: SERVICE_SECRET,
    STRIPE_SECRET_KEY: emu.apiKey,
    STRIPE_WEBHOOK_SECRET: emu.webhookSecret,
    STRIPE_API_URL: emu.url,
    WORKER_POLL_SECONDS: '0.5',
  };
  config = loadConfig(env);
  billing = await createBilling(config);
});

afterAll(async () => {
  await workers?.stop();
  await billing.close();
  await emu.close();
  await auth.app.close();
  await database.release();
  await authDatabase.release();
});

// newUser and rolesInAuth only need the auth app from a Stack.
const authOnly = () => ({ auth }) as unknown as Stack;

async function subscribeDirectly(user: TestUser, price: string) {
  const customer = await stripe.customers.create({ email: user.email, metadata: { userId: user.id } });
  await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  const methods = await stripe.paymentMethods.list({ customer: customer.id });
  return stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price }],
    default_payment_method: methods.data[0]!.id,
  });
}

describe('sync-stripe', () => {
  let subscriber: TestUser;
  let churned: TestUser;

  it('pulls every resource page by page, derives entitlements and enqueues the role syncs they need', async () => {
    subscriber = await newUser(authOnly());
    churned = await newUser(authOnly());
    await subscribeDirectly(subscriber, BASIC_MONTHLY);
    const gone = await subscribeDirectly(churned, PREMIUM_MONTHLY);
    await stripe.subscriptions.cancel(gone.id);
    for (let i = 0; i < EXTRA_CUSTOMERS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) => stripe.customers.create({ email: `bulk${i + j}@example.com` })),
      );
    }

    const pages: string[] = [];
    const sync = stripeSyncFor(billing);
    const report = await sync.run({
      page: (resource, done) => pages.push(`${resource}:${done}`),
      finished() {},
    });

    expect(report.counts).toMatchObject({
      products: 3,
      prices: 5,
      customers: EXTRA_CUSTOMERS + 2,
      subscriptions: 2,
    });
    expect(report.counts.invoices).toBeGreaterThanOrEqual(2);
    expect(pages).toEqual(
      expect.arrayContaining(['customers:100', 'customers:200', `customers:${EXTRA_CUSTOMERS + 2}`]),
    );
    expect(report.roleSyncsEnqueued).toBe(1);

    // The same apply step as webhooks: the user's entitlements are derived, with the sync as the cause.
    const derived = await billing.db.userEntitlements.findUnique({ where: { userId: subscriber.id } });
    expect(derived).toMatchObject({ version: 1, roles: ['subscriber'] });
    const change = await billing.db.entitlementChange.findFirst({ where: { userId: subscriber.id } });
    expect(change?.cause).toMatchObject({ type: 'sync' });
    expect(await billing.db.userEntitlements.findUnique({ where: { userId: churned.id } })).toBeNull();

    const local = await billing.db.subscription.findMany({ orderBy: { status: 'asc' } });
    expect(local.map((s) => [s.status, s.entitledRole, s.userId])).toEqual([
      ['active', 'subscriber', subscriber.id],
      ['canceled', null, churned.id],
    ]);
    const customer = await billing.db.customer.findFirst({ where: { userId: subscriber.id } });
    expect(customer).not.toBeNull();
    expect(await billing.db.product.findMany({ select: { role: true }, orderBy: { role: 'asc' } })).toEqual([
      { role: 'downloads' },
      { role: 'premium' },
      { role: 'subscriber' },
    ]);

    workers = await startWorkers(billing, pino({ level: 'warn' }));
    await eventually(async () => (await rolesInAuth(authOnly(), subscriber)).includes('subscriber'));
    expect(await rolesInAuth(authOnly(), churned)).toEqual([]);
  });

  it('is idempotent: a second run changes nothing and enqueues nothing', async () => {
    const sync = stripeSyncFor(billing);
    const before = await billing.db.roleSync.count();
    const report = await sync.run();
    expect(report.roleSyncsEnqueued).toBe(0);
    expect(await billing.db.roleSync.count()).toBe(before);
    expect(await billing.db.customer.count()).toBe(EXTRA_CUSTOMERS + 2);
  });

  it('--reconcile fixes drift between auth and the entitlements, from the command line, with counts', async () => {
    // Drift: the subscriber's grant vanished from auth, and a stray subscription grant appeared.
    const token = await (async () => {
      const r = await auth.app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { grant_type: 'client_credentials', client_id: 'billing', client_secret: SERVICE_SECRET },
      });
      return (r.json() as { access_token: string }).access_token;
    })();
    const sub = await billing.db.subscription.findFirstOrThrow({ where: { userId: subscriber.id } });
    await auth.app.inject({
      method: 'DELETE',
      url: `/internal/v1/users/${subscriber.id}/roles/subscriber`,
      headers: { authorization: `Bearer ${token}` },
      payload: { source: `subscription:${sub.id}` },
    });
    await auth.app.inject({
      method: 'PUT',
      url: `/internal/v1/users/${churned.id}/roles/premium`,
      headers: { authorization: `Bearer ${token}` },
      payload: { source: 'subscription:sub_stray' },
    });
    expect(await rolesInAuth(authOnly(), subscriber)).toEqual([]);
    expect(await rolesInAuth(authOnly(), churned)).toEqual(['premium']);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(import.meta.dirname, '..', 'src', 'cli', 'sync-stripe.ts'),
        '--reconcile',
      ],
      { env: { ...process.env, ...env }, timeout: 60_000 },
    );
    expect(stdout).toMatch(
      new RegExp(`synced ${EXTRA_CUSTOMERS + 2 + 2 + 4 + 2}\\d* objects|synced \\d+ objects`),
    );
    expect(stdout).toMatch(
      /reconcile: 1 subscription grants in auth, 1 entitled; 1 grants and 1 revocations enqueued/,
    );
    // The subscriber's entitlements (derived by the sync) are queued for auth again.
    expect(stdout).toMatch(
      /reconcile: 0 purchase grants in auth; 0 grants and 0 revocations enqueued; entitlements queued for auth again for 1 users/,
    );

    await eventually(async () => (await rolesInAuth(authOnly(), subscriber)).includes('subscriber'));
    await eventually(async () => (await rolesInAuth(authOnly(), churned)).length === 0);
    expect(bearer).toBeDefined();
  });
});
