/**
 * `npm run test:chaos`: the drills of issue 9 against auth and billing as
 * separate processes (e2e/src/chaos.ts). Each drill breaks something while
 * users subscribe and cancel, then checks that the system converged by
 * itself: every event Stripe delivered with a 2xx was applied, every role in
 * auth is what the subscriptions say, each subscription's grant and
 * revocation went to auth once in effect, and both services answer ready
 * with nobody restarting them by hand (a drill that kills a process starts it
 * again, as a supervisor would). Each prints its convergence time. Redis is
 * the system's own redis-server, so the Redis drill can restart it empty.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosSystem, type ChaosUser, chaosUsers, PASSWORD, startChaosSystem } from '../src/chaos.js';

let sys: ChaosSystem;
let people: ReturnType<typeof chaosUsers>;

beforeAll(async () => {
  sys = await startChaosSystem();
  people = chaosUsers(sys);
});
afterAll(async () => {
  await sys?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function converge(drill: string, since: number): Promise<number> {
  const seconds = await people.converge(drill, since);
  console.log(`[chaos] ${drill}: converged ${seconds.toFixed(1)} s after the fault ended`);
  return seconds;
}

async function countEvents(where = 'true'): Promise<number> {
  const { rows } = await sys.billingDb.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_events WHERE ${where}`,
  );
  return rows[0]?.n ?? 0;
}

describe('chaos drills', () => {
  it('kill -9 of billing in the middle of a burst', async () => {
    const burst = await Promise.all(Array.from({ length: 8 }, () => people.newUser()));
    const paying = Promise.allSettled(burst.map((user) => people.subscribe(user)));
    // Killed once webhooks are arriving and being processed, while other checkouts are under way.
    // (A payment's webhooks, not just the customers checkouts create: deliveries run 8 at a time.)
    for (let i = 0; i < 200 && (await countEvents(`type = 'checkout.session.completed'`)) < 1; i++)
      await sleep(100);
    await sys.billing.kill();
    const results = await paying;
    // A checkout that billing never answered was never paid: that user stays without a role.
    burst.forEach((user, i) => {
      if (results[i]?.status === 'rejected') user.expect = null;
    });
    await sleep(1000);
    await sys.billing.start();
    const seconds = await converge('kill -9 billing mid-burst', performance.now());
    expect(burst.some((u) => u.expect === 'premium')).toBe(true);
    expect(seconds).toBeLessThan(30);
  });

  it('auth down while subscriptions activate and cancel', async () => {
    const before = await Promise.all(Array.from({ length: 3 }, () => people.newUser()));
    await Promise.all(before.map((user) => people.subscribe(user)));
    await people.converge('auth drill setup', performance.now());
    const arriving = await Promise.all(Array.from({ length: 3 }, () => people.newUser()));
    // Their checkouts start while auth is up (a new Stripe customer takes the
    // user's current email from auth); they pay, and so activate, while it is down.
    const sessions = await Promise.all(arriving.map((user) => people.checkout(user)));
    await sys.auth.kill();
    await Promise.all(arriving.map((user, i) => people.pay(user, sessions[i]!)));
    await Promise.all(before.slice(0, 2).map((user) => people.cancel(user)));
    // Long enough for the role syncs' backoff to grow well past the probe interval.
    await sleep(12_000);
    await sys.auth.start();
    const seconds = await converge('auth down during activations and cancellations', performance.now());
    expect(seconds).toBeLessThan(10);
  });

  // Once wedged billing for good: @prisma/adapter-pg never gave back a pool client whose
  // backend died inside an interactive transaction (ADR 0026; service-kit/postgres.ts).
  it('Postgres backends terminated mid-traffic', async () => {
    const wave = await Promise.all(Array.from({ length: 6 }, () => people.newUser()));
    const traffic = Promise.allSettled(wave.map((user) => people.subscribe(user)));
    const killer = new pg.Client({ connectionString: sys.billingDatabaseUrl });
    await killer.connect();
    const databases = [sys.billingDatabaseUrl, sys.authDatabaseUrl].map((url) =>
      new URL(url).pathname.slice(1),
    );
    let terminated = 0;
    try {
      for (let i = 0; i < 5; i++) {
        await sleep(200);
        // This run's two databases only, and never the drill's own observers.
        const { rows } = await killer.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()
                AND application_name <> 'chaos-observer'
           ) t`,
          [databases],
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
    console.log(`[chaos] terminated ${terminated} backends`);
    expect(terminated).toBeGreaterThan(0);
    await converge('Postgres backends terminated', performance.now());
  });

  it('Stripe unreachable for longer than the retry budget, then back', async () => {
    const late = await Promise.all(Array.from({ length: 3 }, () => people.newUser()));
    // The checkout needs Stripe; the payment (at the emulator) and its webhooks do not.
    const sessions = await Promise.all(late.map((user) => people.checkout(user)));
    const deadBefore = await countEvents(`status = 'dead'`);
    sys.stripeLink.cut();
    try {
      await Promise.all(late.map((user, i) => people.pay(user, sessions[i]!)));
      // WEBHOOK_MAX_ATTEMPTS=3 with 1 s backoff: their events die within seconds.
      for (let i = 0; (await countEvents(`status = 'dead'`)) <= deadBefore; i++) {
        if (i > 120) throw new Error('no event went dead while Stripe was cut');
        await sleep(250);
      }
      await sleep(2000);
    } finally {
      sys.stripeLink.restore();
    }
    await converge('Stripe unreachable beyond the retry budget', performance.now());
  });

  it('Redis killed and restarted empty', async () => {
    const call = (url: string, init: RequestInit = {}) =>
      fetch(url, { ...init, signal: AbortSignal.timeout(5000) }).then(async (response) => ({
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        retryAfter: response.headers.get('retry-after'),
        body: await response.text(),
      }));
    const bearer = (user: ChaosUser) => ({ authorization: `Bearer ${user.token}` });
    const atAuth = (user: ChaosUser) => call(`${sys.auth.url}/v1/auth/me`, { headers: bearer(user) });
    const atBilling = (user: ChaosUser) =>
      call(`${sys.billing.url}/api/v1/subscription`, { headers: bearer(user) });
    const post = (path: string, body: object) =>
      call(`${sys.auth.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    /** 2xx, or (only while Redis is down) a fast 503 problem+json saying when to come back. */
    const workingOr503 = (answer: Awaited<ReturnType<typeof call>>, what: string) => {
      if (answer.status < 300) return;
      expect(answer.status, `${what}: ${answer.body}`).toBe(503);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.retryAfter).not.toBeNull();
    };

    const [gone, staying] = await Promise.all([people.newUser(), people.newUser()]);
    await people.subscribe(staying);
    const loggedOut = await call(`${sys.auth.url}/v1/auth/logout`, { method: 'POST', headers: bearer(gone) });
    expect(loggedOut.status).toBe(204);
    expect((await atAuth(gone)).status).toBe(401);
    expect((await atBilling(gone)).status).toBe(401);
    // Checkouts started before the fault, paid while Redis is away: grants must not need it.
    const arriving = await Promise.all(Array.from({ length: 3 }, () => people.newUser()));
    const sessions = await Promise.all(arriving.map((user) => people.checkout(user)));

    await sys.redis.kill();
    const down = { refused: 0, served: [] as string[], unavailable: [] as string[] };
    try {
      await Promise.all(arriving.map((user, i) => people.pay(user, sessions[i]!)));
      for (const answer of [await atAuth(gone), await atBilling(gone)]) {
        // Never accepted: refused as logged out, or (a verifier that cannot check) 503.
        expect([401, 503], answer.body).toContain(answer.status);
        down.refused++;
      }
      for (const [answer, what] of [
        [await atAuth(staying), 'me at auth'],
        [await post('/v1/auth/login', { login: staying.login, password: PASSWORD }), 'login'],
        [await post('/v1/auth/refresh-token', { refresh_token: staying.refreshToken }), 'refresh'],
      ] as const) {
        workingOr503(answer, what);
        (answer.status < 300 ? down.served : down.unavailable).push(what);
        if (what === 'refresh' && answer.status === 200)
          staying.refreshToken = (JSON.parse(answer.body) as { refresh_token: string }).refresh_token;
      }
    } finally {
      await sys.redis.start();
    }
    const back = performance.now();
    console.log(
      `[chaos] Redis down: logged-out token refused ${down.refused}/2; served: ${down.served.join(', ') || 'none'}; 503: ${down.unavailable.join(', ') || 'none'}`,
    );

    // Empty now: nothing Redis held (revocations, rate-limit counters) may come back as "allowed".
    const seconds = await converge('Redis killed and restarted empty', back);
    /**
     * Billing's settled answer. It fails closed (503) whenever it cannot
     * trust the revocation cache. Seen once in CI (2026-12-03; the drill
     * passed in the other CI runs and in 6 local runs): a 503 for the
     * logged-out token right after the drill had converged on another user's
     * token, 0.0 s after Redis came back (the cause is not pinned down; ADR
     * 0010). So a 503 is waited out (5 s at most); any other answer is final,
     * and a logged-out token must never get 200.
     */
    const settled = async (user: ChaosUser) => {
      const until = performance.now() + 5000;
      for (;;) {
        const answer = await atBilling(user);
        if (answer.status !== 503 || performance.now() > until) return answer.status;
        await sleep(100);
      }
    };
    expect((await atAuth(gone)).status).toBe(401);
    expect(await settled(gone)).toBe(401);
    expect((await atAuth(staying)).status).toBe(200);
    expect(await settled(staying)).toBe(200);
    const relogin = await post('/v1/auth/login', { login: staying.login, password: PASSWORD });
    expect(relogin.status, relogin.body).toBe(200);
    const refreshed = await post('/v1/auth/refresh-token', { refresh_token: staying.refreshToken });
    expect(refreshed.status, refreshed.body).toBe(200);
    expect(seconds).toBeLessThan(10);
  });
});
