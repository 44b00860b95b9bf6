/**
 * Issue 15 item 4 (and issue 9's replica drill): 2 auth + 3 billing web + 2
 * billing worker processes behind the real nginx, configured as the
 * Kubernetes manifests configure them (e2e/src/replicas.ts). Users register,
 * log in, check out through the emulator (its webhooks come back through
 * nginx), some cancel at period end through the API and some are cancelled
 * at Stripe; an operator uses /admin (login, lists on every replica, a
 * replay); meanwhile every Deployment is rolled, one replica at a time.
 * Asserted: no request failed at the gateway, every event Stripe delivered
 * was applied (none lost), each subscription's grant and revocation reached
 * auth once (no duplicate), every role is what the subscriptions say.
 */
import pg from 'pg';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, type RawRequest, type RawResponse } from '../src/http.js';
import { type ReplicaSystem, type Role, startReplicaSystem } from '../src/replicas.js';

const PREMIUM = 'price_tollgate_premium_monthly';
const PASSWORD = 'replica drill passphrase 9';

let sys: ReplicaSystem;
let billingDb: pg.Pool;
let authDb: pg.Pool;
let stripe: Stripe;

beforeAll(async () => {
  const began = performance.now();
  sys = await startReplicaSystem();
  console.log(
    `[replicas] 2 auth + 3 billing web + 2 billing worker + nginx up in ${((performance.now() - began) / 1000).toFixed(1)} s`,
  );
  console.log(`[replicas] set by the test instead of the cluster: ${JSON.stringify(sys.overrides)}`);
  billingDb = new pg.Pool({ connectionString: sys.billingDatabaseUrl, max: 2 });
  authDb = new pg.Pool({ connectionString: sys.authDatabaseUrl, max: 2 });
  stripe = new Stripe(sys.emulator.apiKey, { ...sys.emulator.stripeConfig, maxNetworkRetries: 0 });
}, 300_000);

afterAll(async () => {
  await billingDb?.end();
  await authDb?.end();
  await sys?.close();
});

/** Every request through the gateway, and the ones that failed there (5xx, no answer, or not what was expected). */
const tally = { requests: 0, failures: [] as string[] };

async function gateway(options: RawRequest, expected: number[]): Promise<RawResponse> {
  tally.requests++;
  let response: RawResponse;
  try {
    response = await httpRequest(sys.gateway.url, options);
  } catch (error) {
    tally.failures.push(`${options.method ?? 'GET'} ${options.path}: ${(error as Error).message}`);
    throw error;
  }
  if (!expected.includes(response.status)) {
    tally.failures.push(
      `${options.method ?? 'GET'} ${options.path}: ${response.status} ${response.text().slice(0, 200)}`,
    );
    throw new Error(`${options.path}: ${response.status}`);
  }
  return response;
}

const json = (body: object): Pick<RawRequest, 'headers' | 'body'> => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

interface User {
  id: string;
  login: string;
  token: string;
  expect: 'premium' | null;
  subscriptionId?: string;
}
const users: User[] = [];

async function newUser(): Promise<User> {
  const login = `r${Math.random().toString(36).slice(2, 10)}`;
  const registered = await gateway(
    {
      method: 'POST',
      path: '/v1/auth/register',
      ...json({ login, password: PASSWORD, email: `${login}@example.com` }),
    },
    [201],
  );
  const logged = await gateway(
    { method: 'POST', path: '/v1/auth/login', ...json({ login, password: PASSWORD }) },
    [200],
  );
  const user: User = {
    id: registered.json<{ id: string }>().id,
    login,
    token: logged.json<{ access_token: string }>().access_token,
    expect: null,
  };
  users.push(user);
  return user;
}

const bearer = (user: User) => ({ authorization: `Bearer ${user.token}` });

/** Checkout through the gateway, paid on the emulator's page; the webhooks come back through the gateway. */
async function subscribe(user: User) {
  const checkout = await gateway(
    {
      method: 'POST',
      path: '/api/v1/checkout',
      headers: { ...bearer(user), 'content-type': 'application/json' },
      body: JSON.stringify({ price_id: PREMIUM }),
    },
    [200, 201],
  );
  const session = checkout.json<{ checkout_session_id: string; checkout_session_url: string }>();
  const paid = await fetch(session.checkout_session_url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      email: `${user.login}@example.com`,
      cardNumber: '4242 4242 4242 4242',
      cardExpiry: '12 / 34',
      cardCvc: '123',
      billingName: 'Replica',
    }),
  });
  if (paid.status !== 303) throw new Error(`payment: ${paid.status} ${await paid.text()}`);
  const done = await stripe.checkout.sessions.retrieve(session.checkout_session_id);
  user.subscriptionId = String(done.subscription);
  user.expect = 'premium';
}

/** Reads through both services while the replicas change. */
async function browse(user: User) {
  await gateway({ path: '/.well-known/jwks.json' }, [200]);
  await gateway({ path: '/v1/auth/me', headers: bearer(user) }, [200]);
  await gateway({ path: '/api/v1/products' }, [200]);
  await gateway({ path: '/api/v1/subscription', headers: bearer(user) }, user.subscriptionId ? [200] : [404]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function subscriptionRoles(userId: string): Promise<string[]> {
  const { rows } = await authDb.query<{ name: string }>(
    `SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
      WHERE ur.user_id = $1 AND ur.source LIKE 'subscription:%' ORDER BY r.name`,
    [userId],
  );
  return rows.map((r) => r.name);
}

/** Delivered (2xx) events not applied, wrong roles, and grants or revocations not sent exactly once. */
async function problems() {
  const lost: string[] = [];
  const duplicates: string[] = [];
  const wrong: string[] = [];
  const deliveries = (await fetch(`${sys.emulator.url}/_emulator/deliveries`, {
    headers: { authorization: `Bearer ${sys.emulator.apiKey}` },
  }).then((r) => r.json())) as {
    data: { event_id: string; status: string; attempts: { status: number | null; error: string | null }[] }[];
    idle: boolean;
  };
  const delivered = [
    ...new Set(deliveries.data.filter((d) => d.status === 'succeeded').map((d) => d.event_id)),
  ];
  // Webhook POSTs are requests at the gateway too: every attempt must have had a 2xx.
  const attempts = deliveries.data.flatMap((d) => d.attempts.map((a) => ({ event: d.event_id, ...a })));
  const failedAttempts = attempts
    .filter((a) => a.status === null || a.status < 200 || a.status >= 300)
    .map((a) => `webhook ${a.event}: ${a.status ?? a.error}`);
  const { rows: unapplied } = await billingDb.query<{ id: string }>(
    `SELECT d.id FROM unnest($1::text[]) AS d(id) LEFT JOIN webhook_events e ON e.id = d.id
      WHERE e.status IS NULL OR e.status NOT IN ('processed', 'ignored')`,
    [delivered],
  );
  lost.push(...unapplied.map((r) => r.id));
  for (const user of users) {
    const roles = await subscriptionRoles(user.id);
    const want = user.expect ? [user.expect] : [];
    if (JSON.stringify(roles) !== JSON.stringify(want)) wrong.push(`${user.login}: ${JSON.stringify(roles)}`);
    if (!user.subscriptionId) continue;
    const { rows } = await billingDb.query<{ action: string; n: number; ok: number }>(
      `SELECT action, count(*)::int AS n, count(*) FILTER (WHERE status = 'succeeded')::int AS ok
         FROM role_syncs WHERE subscription_id = $1 GROUP BY action`,
      [user.subscriptionId],
    );
    for (const row of rows) if (row.n > 1) duplicates.push(`${user.subscriptionId}: ${row.n} ${row.action}s`);
    const actions = Object.fromEntries(rows.map((r) => [r.action, r.ok]));
    const expected = user.expect ? { grant: 1 } : { grant: 1, revoke: 1 };
    if (
      JSON.stringify(actions, Object.keys(expected).sort()) !==
      JSON.stringify(expected, Object.keys(expected).sort())
    )
      wrong.push(`${user.login}: role syncs ${JSON.stringify(rows)}`);
  }
  return {
    idle: deliveries.idle,
    delivered: delivered.length,
    webhookAttempts: attempts.length,
    failedAttempts,
    lost,
    duplicates,
    wrong,
  };
}

async function converge(timeoutMs = 60_000) {
  const since = performance.now();
  for (;;) {
    const found = await problems();
    // Every webhook Stripe (the emulator) has to send sent, and nothing wrong.
    if (found.idle && found.lost.length + found.duplicates.length + found.wrong.length === 0) return found;
    if (performance.now() - since > timeoutMs) return found;
    await sleep(250);
  }
}

/** /admin through the gateway: login, then pages and lists that land on every billing replica. */
async function adminSession() {
  const origin = sys.gateway.url;
  const login = await gateway(
    {
      method: 'POST',
      path: '/admin/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ email: 'admin', password: sys.adminPassword }).toString(),
    },
    [302],
  );
  expect(login.header('location')).toBe('/admin');
  const cookie = (login.header('set-cookie') ?? '').split(';')[0] as string;
  const dashboard = await gateway({ path: '/admin', headers: { cookie } }, [200]);
  const csrf = dashboard.text().match(/"csrfToken":"([^"]+)"/)?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf as string, origin };
}

describe('2 auth + 3 billing web + 2 billing worker behind nginx, as the manifests run them', () => {
  it('money path, cancels, admin and a rolling restart of every Deployment: nothing fails, lost or doubled', async () => {
    // Before the rollout: a first wave subscribes.
    const first = await Promise.all(Array.from({ length: 6 }, () => newUser()));
    await Promise.all(first.map((u) => subscribe(u)));
    expect((await converge()).wrong).toEqual([]);

    // Admin: a session made on one replica holds on the others (sessions in Postgres).
    const admin = await adminSession();
    for (let i = 0; i < 6; i++) {
      const list = await gateway(
        { path: '/admin/api/resources/Subscription/actions/list', headers: { cookie: admin.cookie } },
        [200],
      );
      expect(list.json<{ records: unknown[] }>().records.length).toBeGreaterThan(0);
    }

    // Traffic for the whole rollout: readers, new subscribers, cancellations.
    let rolling = true;
    const background: Promise<void>[] = [];
    // Light on purpose: the replicas' start-up shares the machine's two cores with it.
    const readers = first.slice(0, 2).map(async (user) => {
      while (rolling) {
        await browse(user).catch(() => {});
        await sleep(100);
      }
    });
    background.push(...readers);
    const arrivals = (async () => {
      while (rolling) {
        await newUser()
          .then((u) => subscribe(u))
          .catch(() => {});
        await sleep(1000);
      }
    })();
    background.push(arrivals);
    const cancels = (async () => {
      // At period end through the API (the role stays until then) and at Stripe (it goes now).
      await sleep(500);
      await gateway({ method: 'DELETE', path: '/api/v1/subscription', headers: bearer(first[4]!) }, [200]);
      await stripe.subscriptions.cancel(first[5]!.subscriptionId as string);
      first[5]!.expect = null;
    })();
    background.push(cancels);

    const restarts: Record<string, number> = {};
    const began = performance.now();
    for (const role of ['auth', 'billing-web', 'billing-worker'] as Role[]) {
      restarts[role] = await sys.rollingRestart(role);
      console.log(`[replicas] rolling restart of ${role}: ${restarts[role]!.toFixed(1)} s`);
    }
    const rolloutSeconds = (performance.now() - began) / 1000;
    rolling = false;
    await Promise.all(background);

    // After the rollout (new replicas only): admin replays an applied event; nothing changes.
    const admin2 = await adminSession();
    const { rows: applied } = await billingDb.query<{ id: string }>(
      `SELECT id FROM webhook_events WHERE status = 'processed' AND type = 'customer.subscription.created' LIMIT 1`,
    );
    const replay = await gateway(
      {
        method: 'POST',
        path: `/admin/api/resources/WebhookEvent/records/${applied[0]?.id}/replay`,
        headers: {
          cookie: admin2.cookie,
          origin: admin2.origin,
          'x-csrf-token': admin2.csrf,
          'content-type': 'application/json',
        },
        body: '{}',
      },
      [200],
    );
    expect(replay.json<{ notice?: { type: string } }>().notice?.type).toBe('success');

    const found = await converge();
    const rss = Object.fromEntries(
      await Promise.all(
        Object.entries(sys.replicas).map(async ([role, list]) => [
          role,
          Math.round(Math.max(...(await Promise.all(list.map((r) => r.rssMiB()))))),
        ]),
      ),
    );
    const figures = {
      requests: tally.requests,
      failures: tally.failures.length,
      users: users.length,
      subscribed: users.filter((u) => u.subscriptionId).length,
      events: found.delivered,
      webhookAttempts: found.webhookAttempts,
      webhookAttemptsFailed: found.failedAttempts.length,
      lost: found.lost.length,
      duplicates: found.duplicates.length,
      rolloutSeconds: Number(rolloutSeconds.toFixed(1)),
      restarts: Object.fromEntries(Object.entries(restarts).map(([k, v]) => [k, Number(v.toFixed(1))])),
      maxRssMiB: rss,
    };
    console.log(`[replicas] ${JSON.stringify(figures)}`);
    expect(tally.failures).toEqual([]);
    expect(found.failedAttempts).toEqual([]);
    expect(found.lost).toEqual([]);
    expect(found.duplicates).toEqual([]);
    expect(found.wrong).toEqual([]);
    expect(figures.subscribed).toBeGreaterThan(first.length);
  }, 900_000);
});
