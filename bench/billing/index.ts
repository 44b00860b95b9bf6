/**
 * npm run bench:billing
 *
 * Prints, measured in one run on this machine (real PostgreSQL and Redis,
 * the real auth app, the emulator in-process):
 *  1. signed webhook events/s accepted into the inbox (10% duplicates), against
 *     a hello-world route of the same billing server (goal: >= 1,000/s);
 *  2. payment -> role visible in auth, p50/p99 over a series of checkouts
 *     (goal: p99 < 1 s): from the moment the emulator's hosted page accepts the
 *     card (it sends checkout.session.completed then) until GET /v1/role/user
 *     shows the role;
 *  3. GET /api/v1/entitlements req/s for the subscribed users in turn (Bearer:
 *     token verification with the revocation and entitlement-floor checks, then
 *     the route's one read of the stored derivation) against the hello-world route
 *     in the same run (goal >= 40%);
 *  4. the cost of a local `requireFeature` check (bench/billing/features.ts;
 *     goal < 5 µs);
 *  5. sync-stripe objects/s over BENCH_CUSTOMERS (10,000) customers with a
 *     subscription each, against merely listing the same objects with the SDK.
 * Needs TEST_DATABASE_URL and TEST_REDIS_URL.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  buildApp as buildAuth,
  createPrismaClient as createAuthDb,
  createRolesService,
  loadConfig as loadAuthConfig,
  migrateAuthDatabase,
} from '@tollgate/auth';
import {
  createFailFastRedis,
  createRedisRevocationStore,
  createTokenVerifier,
  withRevocationCache,
} from '@tollgate/auth-client';
import {
  buildApp as buildBilling,
  createBilling,
  createRequireUser,
  loadConfig as loadBillingConfig,
  migrateBillingDatabase,
  startWorkers,
  stripeSyncFor,
} from '@tollgate/billing';
import { startEmulator } from '@tollgate/stripe-emulator';
import { freePort, provisionDatabase, provisionRedis } from '@tollgate/test-kit';
import autocannon from 'autocannon';
import Stripe from 'stripe';
import { atStop, percentile, startReport } from '../lib/bench.js';
import { measureFeatureChecks } from './features.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CHECKOUTS = Number(process.env.BENCH_CHECKOUTS ?? 40);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 10_000);
const SECRET = 'bench-billing-secret-0123456789abcdef';
const PASSWORD = 'benchmark passphrase 2026';
const cleanups: (() => Promise<unknown>)[] = [];
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function cannon(options: autocannon.Options) {
  const result = await autocannon({ duration: SECONDS, connections: 16, ...options });
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(
      `${options.url}: ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors`,
    );
  return { rps: result['2xx'] / SECONDS, p99: result.latency.p99 };
}

const report = startReport('billing');
atStop(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});
try {
  const [authDbInfo, billingDbInfo, syncDbInfo, redis] = await Promise.all([
    provisionDatabase('bench_auth'),
    provisionDatabase('bench_billing'),
    provisionDatabase('bench_sync'),
    provisionRedis('bench_billing'),
  ]);
  cleanups.push(
    () => authDbInfo.release(),
    () => billingDbInfo.release(),
    () => syncDbInfo.release(),
    () => redis.release(),
  );
  await Promise.all([
    migrateAuthDatabase(authDbInfo.url),
    migrateBillingDatabase(billingDbInfo.url),
    migrateBillingDatabase(syncDbInfo.url),
  ]);

  const authConfig = loadAuthConfig({
    NODE_ENV: 'test',
    DATABASE_URL: authDbInfo.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    SERVICE_CLIENTS: `billing:${SECRET}:roles:write`,
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
    // It registers its users from one address.
    ACCOUNT_RATE_LIMIT_PER_HOUR: '1000000',
  });
  const seed = createAuthDb(authConfig.databaseUrl);
  await createRolesService(seed).seedBuiltIns();
  await seed.$disconnect();
  const auth = await buildAuth(authConfig, { logging: false });
  cleanups.push(() => auth.close());
  const authUrl = await auth.listen({ host: '127.0.0.1', port: 0 });

  // The emulator delivers to billing's port, chosen before either starts.
  const billingPort = await freePort();
  const emu = await startEmulator({ webhookUrl: `http://127.0.0.1:${billingPort}/api/v1/webhook` });
  cleanups.push(() => emu.close());
  const billingEnv = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: billingDbInfo.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    AUTH_URL: authUrl,
    AUTH_CLIENT_SECRET: SECRET,
    STRIPE_SECRET_KEY: emu.apiKey,
    STRIPE_WEBHOOK_SECRET: emu.webhookSecret,
    STRIPE_API_URL: emu.url,
    WORKER_POLL_SECONDS: '0.5',
  };
  const billing = await buildBilling(loadBillingConfig(billingEnv), { logging: false });
  billing.get('/bench/hello', async () => ({ hello: 'world' }));
  // The token path alone (what every Bearer route pays before its handler), verified as billing does.
  const benchRedis = createFailFastRedis(redis.url, { keyPrefix: redis.keyPrefix });
  cleanups.push(async () => benchRedis.disconnect());
  billing.get(
    '/bench/whoami',
    {
      preHandler: createRequireUser(
        createTokenVerifier({
          jwksUrl: `${authUrl}/.well-known/jwks.json`,
          issuer: authConfig.jwt.issuer,
          audience: authConfig.jwt.audience,
          revocation: withRevocationCache(createRedisRevocationStore(benchRedis), 500),
        }),
      ),
    },
    async (request) => ({ sub: request.user?.sub }),
  );
  cleanups.push(() => billing.close());
  await billing.billing.catalog.syncAll();
  const billingUrl = await billing.listen({ host: '127.0.0.1', port: billingPort });

  // 1. Webhook ingest (workers not yet running: this measures acceptance into the inbox).
  log(`webhook ingest, ${SECONDS} s...`);
  const hello = await cannon({ url: `${billingUrl}/bench/hello` });
  let n = 0;
  const runId = randomBytes(3).toString('hex');
  const ingest = await cannon({
    url: `${billingUrl}/api/v1/webhook`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          n++;
          // Every tenth event is a duplicate of the one before: answered 200, stored once.
          const id = `evt_bench_${runId}_${n % 10 === 0 ? n - 1 : n}`;
          const body = JSON.stringify({
            id,
            object: 'event',
            api_version: '2026-10-28.endive',
            created: Math.floor(Date.now() / 1000),
            type: 'customer.updated',
            livemode: false,
            pending_webhooks: 1,
            request: { id: null, idempotency_key: null },
            data: { object: { id: `cus_bench_${n}`, object: 'customer' } },
          });
          const t = Math.floor(Date.now() / 1000);
          const v1 = createHmac('sha256', emu.webhookSecret).update(`${t}.${body}`).digest('hex');
          return { ...request, body, headers: { ...request.headers, 'stripe-signature': `t=${t},v1=${v1}` } };
        },
      },
    ],
  });
  await billing.billing.inbox.flush();
  const stored = await billing.billing.db.webhookEvent.count({
    where: { id: { startsWith: `evt_bench_${runId}_` } },
  });
  report.add({
    measure: 'POST /api/v1/webhook (signed, 10% duplicates)',
    figure: ingest.rps,
    unit: '/s',
    baseline: { label: 'hello', value: hello.rps, unit: '/s' },
    goal: { on: 'figure', op: '>=', value: 1000, text: '>= 1,000/s' },
    note: `p99 ${ingest.p99} ms; ${stored} stored`,
  });
  // Drop the bench events before the workers start (they name customers that do not exist).
  await billing.billing.db.$executeRawUnsafe(
    `DELETE FROM pgboss.job WHERE data->>'eventId' LIKE 'evt_bench_%'`,
  );
  await billing.billing.db.webhookEvent.deleteMany({ where: { id: { startsWith: 'evt_bench_' } } });

  // 2. Payment -> role in auth.
  const workers = await startWorkers(billing.billing, billing.log);
  cleanups.push(() => workers.stop());
  log(`payment -> role, ${CHECKOUTS} checkouts...`);
  const latencies: number[] = [];
  const subscribedTokens: string[] = [];
  for (let i = 0; i < CHECKOUTS; i++) {
    const login = `bench${runId}${i}`;
    await auth.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { login, password: PASSWORD, email: `${login}@example.com` },
    });
    const token = (
      await auth.inject({ method: 'POST', url: '/v1/auth/login', payload: { login, password: PASSWORD } })
    ).json().access_token as string;
    const checkout = await billing.inject({
      method: 'POST',
      url: '/api/v1/checkout',
      headers: { authorization: `Bearer ${token}` },
      payload: { price_id: 'price_tollgate_basic_monthly' },
    });
    const url = checkout.json().checkout_session_url as string;
    const paid = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        email: `${login}@example.com`,
        cardNumber: '4242424242424242',
        cardExpiry: '12 / 34',
        cardCvc: '123',
        billingName: 'Bench',
      }),
    });
    if (paid.status !== 303) throw new Error(`payment failed: ${paid.status}`);
    const start = performance.now();
    for (;;) {
      const roles = await auth.inject({
        method: 'GET',
        url: `/v1/role/user?login=${login}`,
        headers: { authorization: `Bearer ${token}` },
      });
      if ((roles.json().roles as string[]).includes('subscriber')) break;
      if (performance.now() - start > 30_000) {
        const events = await billing.billing.db.webhookEvent.groupBy({ by: ['status'], _count: true });
        const syncs = await billing.billing.db.roleSync.groupBy({ by: ['status'], _count: true });
        throw new Error(
          `role never arrived: events ${JSON.stringify(events)}, role syncs ${JSON.stringify(syncs)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    latencies.push(performance.now() - start);
    subscribedTokens.push(token);
  }

  report.add({
    measure: `payment -> role in auth, p99 of ${CHECKOUTS}`,
    figure: percentile(latencies, 99),
    unit: 'ms',
    goal: { on: 'figure', op: '<=', value: 1000, text: 'p99 < 1,000 ms' },
    note: `p50 ${percentile(latencies, 50).toFixed(0)} ms`,
  });

  // 3. Entitlements read for a subscribed user, against hello-world measured right before it.
  const authorization = `Bearer ${subscribedTokens.at(-1)}`;
  const probe = await billing.inject({
    method: 'GET',
    url: '/api/v1/entitlements',
    headers: { authorization },
  });
  if (probe.statusCode !== 200) throw new Error(`GET /api/v1/entitlements answered ${probe.statusCode}`);
  log(`GET /api/v1/entitlements against hello-world, ${SECONDS} s each...`);
  // Every subscribed user in turn, as real traffic comes: one user's reads would all be
  // the same row, and share one query whenever they arrive together.
  let turn = 0;
  const asEachUser: autocannon.Request[] = [
    {
      setupRequest: (request) => ({
        ...request,
        headers: {
          ...request.headers,
          authorization: `Bearer ${subscribedTokens[turn++ % subscribedTokens.length]}`,
        },
      }),
    },
  ];
  const helloBeside = await cannon({ url: `${billingUrl}/bench/hello` });
  const whoami = await cannon({ url: `${billingUrl}/bench/whoami`, requests: asEachUser });
  const entitlements = await cannon({ url: `${billingUrl}/api/v1/entitlements`, requests: asEachUser });

  // 4. Local feature checks.
  log('requireFeature micro-bench...');
  const features = await measureFeatureChecks();

  report.add({
    measure: 'GET /bench/whoami (Bearer check only)',
    figure: whoami.rps,
    unit: '/s',
    baseline: { label: 'hello', value: helloBeside.rps, unit: '/s' },
    note: `p99 ${whoami.p99} ms`,
  });
  report.add({
    measure: 'GET /api/v1/entitlements (Bearer)',
    figure: entitlements.rps,
    unit: '/s',
    baseline: { label: 'hello', value: helloBeside.rps, unit: '/s' },
    goal: { on: 'ratio', op: '>=', value: 0.4, text: '>= 40% of hello' },
    note: `p99 ${entitlements.p99} ms; ${subscribedTokens.length} users in turn; ${Object.keys(probe.json().features ?? {}).length} features`,
  });
  report.add({
    measure: "requireFeature('hd') on verified claims",
    figure: features.requireFeatureNs / 1000,
    unit: 'µs',
    goal: { on: 'figure', op: '<=', value: 5, text: '< 5 µs' },
    note: `limitOf ${(features.limitOfNs / 1000).toFixed(3)} µs; verify of a repeat token + requireFeature ${(features.verifyAndRequireNs / 1000).toFixed(3)} µs`,
  });

  // 3. sync-stripe over many customers, in a fresh Stripe account (an emulator without webhooks).
  log(`sync-stripe: creating ${CUSTOMERS} customers with subscriptions in a fresh emulator...`);
  const syncEmu = await startEmulator({});
  cleanups.push(() => syncEmu.close());
  const syncStripe = new Stripe(syncEmu.apiKey, { ...syncEmu.stripeConfig, maxNetworkRetries: 0 });
  for (let i = 0; i < CUSTOMERS; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, CUSTOMERS - i) }, async (_, j) => {
        const customer = await syncStripe.customers.create({ email: `sync${i + j}@example.com` });
        const pm = await syncStripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
        await syncStripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: 'price_tollgate_basic_monthly' }],
          default_payment_method: pm.id,
        });
      }),
    );
    if (i % 2000 === 0) log(`  ${i}/${CUSTOMERS}`);
  }
  const syncBilling = await createBilling(
    loadBillingConfig({
      ...billingEnv,
      DATABASE_URL: syncDbInfo.url,
      STRIPE_SECRET_KEY: syncEmu.apiKey,
      STRIPE_API_URL: syncEmu.url,
    }),
  );
  cleanups.push(() => syncBilling.close());
  log('listing everything with the SDK (baseline)...');
  let listed = 0;
  const listStarted = performance.now();
  for (const list of [
    syncStripe.products.list({ limit: 100 }),
    syncStripe.prices.list({ limit: 100 }),
    syncStripe.customers.list({ limit: 100 }),
    syncStripe.subscriptions.list({ limit: 100, status: 'all' }),
    syncStripe.invoices.list({ limit: 100 }),
  ] as AsyncIterable<unknown>[]) {
    for await (const _ of list) listed++;
  }
  const listSeconds = (performance.now() - listStarted) / 1000;
  log('sync-stripe...');
  const sync = stripeSyncFor(syncBilling);
  const syncReport = await sync.run();
  const synced = Object.values(syncReport.counts).reduce((a, b) => a + b, 0);

  report.add({
    measure: `sync-stripe (${CUSTOMERS} customers)`,
    figure: synced / syncReport.seconds,
    unit: 'obj/s',
    baseline: { label: 'SDK list of the same objects', value: listed / listSeconds, unit: 'obj/s' },
    note: `no goal in the issue; ${synced} in ${syncReport.seconds.toFixed(1)} s; ${syncReport.roleSyncsEnqueued} role syncs`,
  });
  report.finish();
} catch (error) {
  report.finish(error);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(e));
}
