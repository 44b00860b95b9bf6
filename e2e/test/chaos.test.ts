/**
 * `npm run test:chaos`: the drills of issue 9 against auth and billing as
 * separate processes (e2e/src/chaos.ts). Each drill breaks something while
 * users subscribe and cancel, then checks that the system converged by
 * itself: every event Stripe delivered with a 2xx was applied, every role in
 * auth is what the subscriptions say, each subscription's grant and
 * revocation went to auth once in effect, and both services answer ready
 * with nobody restarting them by hand (a drill that kills a process starts it
 * again, as a supervisor would). Each prints its convergence time.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosSystem, startChaosSystem } from '../src/chaos.js';

const PREMIUM = 'price_tollgate_premium_monthly';
const PASSWORD = 'chaos drill passphrase 7';

let sys: ChaosSystem;
let stripe: Stripe;

interface User {
  id: string;
  login: string;
  token: string;
  /** The role auth should show once everything settled. */
  expect: 'premium' | null;
  subscriptionId?: string;
}
const users: User[] = [];

beforeAll(async () => {
  sys = await startChaosSystem();
  stripe = new Stripe(sys.emulator.apiKey, { ...sys.emulator.stripeConfig, maxNetworkRetries: 0 });
});
afterAll(async () => {
  await sys?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function json(response: Response) {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function newUser(): Promise<User> {
  const login = `c${randomBytes(5).toString('hex')}`;
  const post = (path: string, body: object) =>
    fetch(`${sys.auth.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(json);
  const { id } = await post('/v1/auth/register', { login, password: PASSWORD, email: `${login}@example.com` });
  const { access_token } = await post('/v1/auth/login', { login, password: PASSWORD });
  const user: User = { id, login, token: access_token, expect: null };
  users.push(user);
  return user;
}

/** Checkout through billing and payment on the emulator's page. */
async function subscribe(user: User): Promise<void> {
  const { checkout_session_url, checkout_session_id } = await fetch(`${sys.billing.url}/api/v1/checkout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ price_id: PREMIUM }),
  }).then(json);
  const paid = await fetch(checkout_session_url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      email: `${user.login}@example.com`,
      cardNumber: '4242 4242 4242 4242',
      cardExpiry: '12 / 34',
      cardCvc: '123',
      billingName: 'Chaos',
    }),
  });
  if (paid.status !== 303) throw new Error(`payment: ${paid.status} ${await paid.text()}`);
  const session = await stripe.checkout.sessions.retrieve(checkout_session_id);
  user.subscriptionId = String(session.subscription);
  user.expect = 'premium';
}

/** Cancelled at Stripe (as from the dashboard): the role must go. */
async function cancel(user: User): Promise<void> {
  await stripe.subscriptions.cancel(user.subscriptionId as string);
  user.expect = null;
}

async function subscriptionRoles(userId: string): Promise<string[]> {
  const { rows } = await sys.authDb.query<{ name: string }>(
    `SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
      WHERE ur.user_id = $1 AND ur.source LIKE 'subscription:%' ORDER BY r.name`,
    [userId],
  );
  return rows.map((r) => r.name);
}

/** What is still wrong, or [] once the system has converged. */
async function problems(): Promise<string[]> {
  const found: string[] = [];
  const deliveries = (await fetch(`${sys.emulator.url}/_emulator/deliveries?status=succeeded`, {
    headers: { authorization: `Bearer ${sys.emulator.apiKey}` },
  }).then(json)) as { data: { event_id: string }[] };
  const delivered = [...new Set(deliveries.data.map((d) => d.event_id))];
  const { rows: unapplied } = await sys.billingDb.query<{ id: string }>(
    `SELECT d.id FROM unnest($1::text[]) AS d(id)
       LEFT JOIN webhook_events e ON e.id = d.id
      WHERE e.status IS NULL OR e.status NOT IN ('processed', 'ignored')`,
    [delivered],
  );
  if (unapplied.length > 0) found.push(`${unapplied.length} delivered events not applied`);
  for (const user of users) {
    const roles = await subscriptionRoles(user.id);
    const want = user.expect ? [user.expect] : [];
    if (JSON.stringify(roles) !== JSON.stringify(want))
      found.push(`${user.login}: roles ${JSON.stringify(roles)}, want ${JSON.stringify(want)}`);
    if (!user.subscriptionId) continue;
    const { rows: syncs } = await sys.billingDb.query<{ action: string; status: string }>(
      `SELECT action, status FROM role_syncs WHERE subscription_id = $1 ORDER BY created_at`,
      [user.subscriptionId],
    );
    const actions = syncs.map((s) => s.action);
    const expected = user.expect ? ['grant'] : ['grant', 'revoke'];
    if (JSON.stringify(actions) !== JSON.stringify(expected) || syncs.some((s) => s.status !== 'succeeded'))
      found.push(`${user.login}: role syncs ${JSON.stringify(syncs)}, want ${JSON.stringify(expected)} once each`);
  }
  for (const service of [sys.auth, sys.billing]) {
    const ready = await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    if (ready?.status !== 200) found.push(`${service.name} not ready (${ready?.status ?? 'no answer'})`);
  }
  return found;
}

/** Waits until nothing is wrong; returns the seconds it took from `since`. */
async function converge(drill: string, since: number, timeoutMs = 60_000): Promise<number> {
  let last: string[] = [];
  for (;;) {
    last = await problems().catch((error: Error) => [error.message]);
    if (last.length === 0) break;
    if (performance.now() - since > timeoutMs)
      throw new Error(
        `${drill}: not converged after ${timeoutMs / 1000} s:\n${last.join('\n')}\n--- billing:\n${sys.billing.tail()}`,
      );
    await sleep(250);
  }
  const seconds = (performance.now() - since) / 1000;
  console.log(`[chaos] ${drill}: converged ${seconds.toFixed(1)} s after the fault ended`);
  return seconds;
}

describe('chaos drills', () => {
  it('kill -9 of billing in the middle of a burst', async () => {
    const burst = await Promise.all(Array.from({ length: 8 }, () => newUser()));
    const paying = Promise.allSettled(burst.map((user) => subscribe(user)));
    // Killed once webhooks are arriving and being processed, while other checkouts are under way.
    for (let i = 0; i < 200; i++) {
      const { rows } = await sys.billingDb.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events');
      if ((rows[0]?.n ?? 0) >= 3) break;
      await sleep(100);
    }
    await sys.billing.kill();
    const results = await paying;
    // Checkouts that reached billing before the kill were paid; the others never started.
    burst.forEach((user, i) => {
      if (results[i]?.status === 'rejected') user.expect = null;
    });
    await sleep(1000);
    await sys.billing.start();
    const restarted = performance.now();
    const seconds = await converge('kill -9 billing mid-burst', restarted);
    expect(burst.some((u) => u.expect === 'premium')).toBe(true);
    expect(seconds).toBeLessThan(30);
  });

  it('auth down while subscriptions activate and cancel', async () => {
    const before = await Promise.all(Array.from({ length: 3 }, () => newUser()));
    await Promise.all(before.map((user) => subscribe(user)));
    await converge('auth drill setup', performance.now());
    const arriving = await Promise.all(Array.from({ length: 3 }, () => newUser()));
    await sys.auth.kill();
    await Promise.all(arriving.map((user) => subscribe(user)));
    await Promise.all(before.slice(0, 2).map((user) => cancel(user)));
    // Long enough for the role syncs' backoff to grow past the probe interval.
    await sleep(12_000);
    await sys.auth.start();
    const back = performance.now();
    const seconds = await converge('auth down during activations and cancellations', back);
    expect(seconds).toBeLessThan(10);
  });

  it('Postgres backends terminated mid-traffic', async () => {
    const wave = await Promise.all(Array.from({ length: 6 }, () => newUser()));
    const traffic = Promise.allSettled(wave.map((user) => subscribe(user)));
    const killer = new pg.Client({ connectionString: sys.billingDatabaseUrl });
    await killer.connect();
    let terminated = 0;
    try {
      for (let i = 0; i < 5; i++) {
        await sleep(200);
        const { rows } = await killer.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()
                AND pid NOT IN (SELECT pid FROM pg_stat_activity WHERE application_name = 'chaos-observer')
           ) t`,
          [[new URL(sys.billingDatabaseUrl).pathname.slice(1), new URL(sys.authDatabaseUrl).pathname.slice(1)]],
        );
        terminated += rows[0]?.n ?? 0;
      }
    } finally {
      await killer.end();
    }
    const results = await traffic;
    wave.forEach((user, i) => {
      if (results[i]?.status === 'rejected') user.expect = null;
    });
    const ended = performance.now();
    expect(terminated).toBeGreaterThan(0);
    console.log(`[chaos] terminated ${terminated} backends`);
    await converge('Postgres backends terminated', ended);
  });

  it('Stripe unreachable for longer than the retry budget, then back', async () => {
    const late = await Promise.all(Array.from({ length: 3 }, () => newUser()));
    // The checkout needs Stripe; the payment (at the emulator) and its webhooks do not.
    const sessions = await Promise.all(
      late.map((user) =>
        fetch(`${sys.billing.url}/api/v1/checkout`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ price_id: PREMIUM }),
        }).then(json),
      ),
    );
    sys.stripeLink.cut();
    try {
      await Promise.all(
        late.map(async (user, i) => {
          const paid = await fetch(sessions[i].checkout_session_url, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              email: `${user.login}@example.com`,
              cardNumber: '4242 4242 4242 4242',
              cardExpiry: '12 / 34',
              cardCvc: '123',
              billingName: 'Chaos',
            }),
          });
          expect(paid.status).toBe(303);
          const session = await stripe.checkout.sessions.retrieve(sessions[i].checkout_session_id);
          user.subscriptionId = String(session.subscription);
          user.expect = 'premium';
        }),
      );
      // WEBHOOK_MAX_ATTEMPTS=3 with 1 s backoff: their events die within seconds.
      for (let i = 0; ; i++) {
        const { rows } = await sys.billingDb.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_events WHERE status = 'dead'`,
        );
        if ((rows[0]?.n ?? 0) > 0) break;
        if (i > 120) throw new Error('no event went dead while Stripe was cut');
        await sleep(250);
      }
      await sleep(2000);
    } finally {
      sys.stripeLink.restore();
    }
    const back = performance.now();
    await converge('Stripe unreachable beyond the retry budget', back);
  });
});
