/**
 * npm run bench:billing-queue
 *
 * Billing's queue after a restart, a burst and outages, with auth and billing
 * as separate processes (the chaos drills' system, e2e/src/chaos.ts), on real
 * PostgreSQL and Redis. Prints each figure against its goal (issue 9):
 *  1. backlog drain: BENCH_BACKLOG (5,000) customer.updated events waiting in
 *     the inbox while billing is down, then one billing process started: events
 *     per second from the first to the last processed (goal >= 200/s), and per
 *     CPU-second of the billing process (the figure a busy machine distorts
 *     least); at most BENCH_DRAIN_LIMIT_SECONDS (60) of it;
 *  2. a burst of BENCH_BURST (20) concurrent payments: from the delivery of
 *     the event that grants each role to the grant in auth, p50 and p99 (goal,
 *     the issue's: p99 < 1 s); also from the payment itself, which adds the
 *     emulator's own delivery queue (printed, no goal);
 *  3. auth down for BENCH_AUTH_OUTAGE_SECONDS (20; the issue says 60, shortened
 *     to keep the bench short: the backoff cap is reached either way) while
 *     users subscribe and cancel: seconds from auth's return until every role
 *     is right (goal <= 10 s);
 *  4. kill -9 of billing in the middle of a burst: seconds from its restart
 *     until everything converged (goal <= 15 s).
 * Needs TEST_DATABASE_URL and TEST_REDIS_URL. About 1-2 minutes.
 */
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { createBilling, loadConfig } from '@tollgate/billing';
import { chaosUsers, startChaosSystem } from '@tollgate/e2e/chaos';
import type Stripe from 'stripe';
import { atStop, percentile, startReport } from '../lib/bench.js';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 5000);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const OUTAGE_SECONDS = Number(process.env.BENCH_AUTH_OUTAGE_SECONDS ?? 20);
const DRAIN_LIMIT_MS = Number(process.env.BENCH_DRAIN_LIMIT_SECONDS ?? 60) * 1000;
const log = (m: string) => process.stderr.write(`  ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const report = startReport('billing-queue');
/** When the burst's payments had all been started (the stage log counts what billing received from then on). */
let burstWall = 0;
const sys = await startChaosSystem();
atStop(() => sys.close());
try {
  const people = chaosUsers(sys);
  // The machine may be shared: its load says how far the wall-clock figures are from an idle run's.
  console.error(
    `machine: ${availableParallelism()} cores, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );

  // 1. Backlog: events accepted while no billing process ran (written through billing's own inbox).
  log(`backlog: ${BACKLOG} events into the inbox while billing is down...`);
  await sys.billing.kill();
  const customers: Stripe.Customer[] = await Promise.all(
    Array.from({ length: 50 }, (_, i) => sys.stripe.customers.create({ email: `backlog${i}@example.com` })),
  );
  const writer = await createBilling(
    loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: sys.billingDatabaseUrl,
      STRIPE_SECRET_KEY: sys.emulator.apiKey,
      STRIPE_API_URL: sys.emulator.url,
    }),
  );
  for (let i = 0; i < BACKLOG; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, BACKLOG - i) }, (_, j) =>
        writer.inbox.accept({
          id: `evt_backlog_${i + j}`,
          object: 'event',
          type: 'customer.updated',
          created: Math.floor(Date.now() / 1000),
          api_version: '2026-10-28.endive',
          livemode: false,
          pending_webhooks: 0,
          request: { id: null, idempotency_key: null },
          data: { object: customers[(i + j) % customers.length] },
        } as unknown as Stripe.Event),
      ),
    );
  }
  await writer.close();
  const started = performance.now();
  await sys.billing.start();
  const cpuAtStart = await sys.billing.cpuSeconds();
  let processed = 0;
  // Bounded, so the bench stays short on a busy machine: the rate is then over what was done.
  while (processed < BACKLOG && performance.now() - started < DRAIN_LIMIT_MS) {
    await sleep(200);
    const {
      rows: [done],
    } = await sys.billingDb.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE id LIKE 'evt_backlog_%' AND status = 'processed'`,
    );
    processed = done?.n ?? 0;
  }
  const cpu = (await sys.billing.cpuSeconds()) - cpuAtStart;
  const wall = (performance.now() - started) / 1000;
  const {
    rows: [span],
  } = await sys.billingDb.query<{ seconds: number }>(
    `SELECT extract(epoch FROM max(processed_at) - min(processed_at))::float AS seconds
       FROM webhook_events WHERE id LIKE 'evt_backlog_%' AND status = 'processed'`,
  );
  const rate = processed / Math.max(0.001, span?.seconds ?? 0);
  report.add({
    measure: 'backlog drain, 1 process',
    figure: rate,
    unit: '/s',
    goal: { on: 'figure', op: '>=', value: 200, text: '>= 200/s' },
    note: `${processed}/${BACKLOG} events; ${(processed / Math.max(0.01, cpu)).toFixed(0)} per CPU-second of billing; ${wall.toFixed(1)} s from process start`,
  });
  if (processed < BACKLOG) {
    // The rest would queue ahead of the next sections' events: dropped.
    await sys.billingDb.query(
      `DELETE FROM pgboss.job WHERE name = 'webhook-event' AND state < 'active' AND data->>'eventId' LIKE 'evt_backlog_%'`,
    );
    await sys.billingDb.query(
      `UPDATE webhook_events SET status = 'ignored' WHERE id LIKE 'evt_backlog_%' AND status <> 'processed'`,
    );
  }

  // 2. A burst of payments: payment -> role in auth.
  log(`burst: ${BURST} payments at once...`);
  const burst = await Promise.all(Array.from({ length: BURST }, () => people.newUser()));
  const burstCpu = { billing: await sys.billing.cpuSeconds(), auth: await sys.auth.cpuSeconds() };
  const burstMachine = await machineCpu();
  const paidAt = new Map<string, number>();
  const paidWall = new Map<string, number>();
  const roleAt = new Map<string, number>();
  let paid = false;
  const payments = Promise.allSettled(
    burst.map(async (user) => {
      await people.subscribe(user);
      paidAt.set(user.id, performance.now());
      paidWall.set(user.id, Date.now());
    }),
  ).finally(() => {
    paid = true;
  });
  // One query for every user still waiting, every 20 ms: the bench's own polling
  // (20 users x 100 queries/s before) must not load the machine it measures.
  const burstStarted = performance.now();
  burstWall = Date.now();
  const waitingForRoles = () => !paid || [...paidAt.keys()].some((id) => !roleAt.has(id));
  while (waitingForRoles() && performance.now() - burstStarted < 90_000) {
    const waiting = burst.filter((u) => !roleAt.has(u.id)).map((u) => u.id);
    const { rows: granted } = await sys.authDb.query<{ user_id: string }>(
      `SELECT DISTINCT ur.user_id::text AS user_id FROM user_roles ur JOIN roles r ON r.id = ur.role_id
        WHERE ur.user_id::text = ANY($1::text[]) AND r.name = 'premium' AND ur.source LIKE 'subscription:%'`,
      [waiting],
    );
    const now = performance.now();
    for (const row of granted) roleAt.set(row.user_id, now);
    await sleep(20);
  }
  burstCpu.billing = (await sys.billing.cpuSeconds()) - burstCpu.billing;
  burstCpu.auth = (await sys.auth.cpuSeconds()) - burstCpu.auth;
  const machine = machineDelta(burstMachine, await machineCpu());
  // A payment that failed (checkout refused on a loaded machine) is not waited for.
  const failedPayments = (await payments).filter((r) => r.status === 'rejected').length;
  for (const user of burst) if (!paidAt.has(user.id)) user.expect = null;
  // Reported as missing rather than thrown: the sections after it still run. A role seen
  // before subscribe() returned (it reads the session back after paying) counts as 0.
  const latencies = burst
    .filter((user) => paidAt.has(user.id))
    .map((user) => {
      const at = roleAt.get(user.id);
      return at === undefined ? Number.POSITIVE_INFINITY : Math.max(0, at - (paidAt.get(user.id) ?? at));
    });
  const late = latencies.filter((l) => l === Number.POSITIVE_INFINITY).length;
  const paidUsers = burst.filter((u) => paidWall.has(u.id)).map((u) => u.id);
  // The issue's figure: from Stripe's delivery of the event that grants the role to the role in auth.
  const delivered = await deliveryToRole(paidUsers);
  report.add({
    measure: `burst of ${BURST} payments: delivery -> role, p99`,
    figure: late > 0 || delivered.length < paidUsers.length ? null : percentile(delivered, 99),
    unit: 'ms',
    goal: { on: 'figure', op: '<=', value: 1000, text: 'p99 < 1,000 ms' },
    note: `p50 ${percentile(delivered, 50).toFixed(0)} ms over ${delivered.length} users; CPU over the burst: billing ${burstCpu.billing.toFixed(1)} s, auth ${burstCpu.auth.toFixed(1)} s${machine}`,
  });
  // Stricter: from the payment, so it adds the emulator's own delivery queue (which shares the
  // 2 cores). Printed without a goal.
  report.add({
    measure: `burst of ${BURST} payments: payment -> role, p99`,
    figure: late > 0 ? null : percentile(latencies, 99),
    unit: 'ms',
    note: `p50 ${percentile(latencies, 50).toFixed(0)} ms; ${late} not within 90 s; ${failedPayments} payments failed`,
  });
  await logStages(paidUsers, paidWall);

  // 3. Auth outage while users subscribe and cancel (they registered before it).
  log(`auth down for ${OUTAGE_SECONDS} s...`);
  const arriving = await Promise.all(Array.from({ length: 5 }, () => people.newUser()));
  // Their checkouts start while auth is up (a new Stripe customer takes the user's
  // email from auth); they pay, and so activate, while it is down.
  const sessions = await Promise.all(arriving.map((user) => people.checkout(user)));
  await sys.auth.kill();
  const outageStarted = performance.now();
  await Promise.all(arriving.map((user, i) => people.pay(user, sessions[i]!)));
  await Promise.all(burst.slice(0, 3).map((user) => people.cancel(user)));
  await sleep(Math.max(0, OUTAGE_SECONDS * 1000 - (performance.now() - outageStarted)));
  await sys.auth.start();
  const authBack = await people.converge('auth outage', performance.now());
  report.add({
    measure: 'auth outage: auth back -> every role right',
    figure: authBack,
    unit: 's',
    goal: { on: 'figure', op: '<=', value: 10, text: '<= 10 s' },
    note: `auth down ${OUTAGE_SECONDS} s (the issue says 60) while 5 pay and 3 cancel`,
  });

  // 4. kill -9 of billing mid-burst.
  log('kill -9 of billing mid-burst...');
  const wave = await Promise.all(Array.from({ length: 8 }, () => people.newUser()));
  const paidEvents = `SELECT count(*)::int AS n FROM webhook_events WHERE type = 'checkout.session.completed'`;
  const before = (await sys.billingDb.query<{ n: number }>(paidEvents)).rows[0]?.n as number;
  const paying = Promise.allSettled(wave.map((user) => people.subscribe(user)));
  for (let i = 0; i < 200; i++) {
    // Killed once a payment's webhooks arrive, while the other checkouts are under way.
    const n = (await sys.billingDb.query<{ n: number }>(paidEvents)).rows[0]?.n;
    if ((n ?? 0) >= before + 1) break;
    await sleep(50);
  }
  await sys.billing.kill();
  const results = await paying;
  wave.forEach((user, i) => {
    if (results[i]?.status === 'rejected') user.expect = null;
  });
  await sys.billing.start();
  const killBack = await people.converge('kill -9 billing', performance.now());
  report.add({
    measure: 'kill -9 billing mid-burst: restart -> converged',
    figure: killBack,
    unit: 's',
    goal: { on: 'figure', op: '<=', value: 15, text: '<= 15 s' },
  });
  report.finish();
} catch (error) {
  report.finish(error);
  process.exitCode = 1;
} finally {
  await sys.close();
}

/**
 * Per user, ms from the delivery of the event whose processing granted the role
 * (the start of the emulator's successful attempt, as Stripe would time it) to
 * auth's answer that the grant is committed (the role sync's completion: a few
 * ms after the grant itself, so never early). Both clocks are this machine's.
 */
async function deliveryToRole(userIds: string[]): Promise<number[]> {
  const { rows: grants } = await sys.billingDb.query<{ event_id: string; at: number }>(
    `SELECT DISTINCT ON (user_id) cause->>'event_id' AS event_id,
            extract(epoch FROM completed_at) * 1000 AS at
       FROM role_syncs WHERE user_id::text = ANY($1::text[]) AND action = 'grant' AND completed_at IS NOT NULL
      ORDER BY user_id, created_at`,
    [userIds],
  );
  const deliveries = (await fetch(`${sys.emulator.url}/_emulator/deliveries`, {
    headers: { authorization: `Bearer ${sys.emulator.apiKey}` },
  }).then((r) => r.json())) as {
    data: { event_id: string; attempts: { at: string; status: number | null }[] }[];
  };
  const deliveredAt = new Map<string, number>();
  for (const d of deliveries.data) {
    const ok = d.attempts.find((a) => a.status !== null && a.status >= 200 && a.status < 300);
    if (ok && !deliveredAt.has(d.event_id)) deliveredAt.set(d.event_id, Date.parse(ok.at));
  }
  return grants
    .map((g) => Number(g.at) - (deliveredAt.get(g.event_id) ?? Number.NaN))
    .filter((ms) => Number.isFinite(ms));
}

/**
 * Where a burst's payment -> role time goes, stage by stage (p50 / max over the
 * users), from the rows' own timestamps: the role-granting event's arrival, its
 * job's queueing, start and end, the role sync's job start and the grant at auth.
 * Printed, not judged: the figure with a goal is the end-to-end one above.
 */
async function logStages(userIds: string[], paidWall: Map<string, number>) {
  const { rows } = await sys.billingDb.query<Record<string, number | string | null>>(
    `SELECT DISTINCT ON (rs.user_id) rs.user_id::text AS user_id, e.type,
            extract(epoch FROM e.received_at) * 1000 AS received,
            extract(epoch FROM wj.created_on) * 1000 AS queued,
            extract(epoch FROM wj.started_on) * 1000 AS started,
            extract(epoch FROM e.processed_at) * 1000 AS processed,
            extract(epoch FROM rj.created_on) * 1000 AS sync_queued,
            extract(epoch FROM rj.started_on) * 1000 AS sync_started,
            extract(epoch FROM rs.completed_at) * 1000 AS synced,
            wj.retry_count AS retries, rj.retry_count AS sync_retries
       FROM role_syncs rs
       JOIN webhook_events e ON e.id = rs.cause->>'event_id'
       LEFT JOIN pgboss.job wj ON wj.name = 'webhook-event' AND wj.data->>'eventId' = e.id
       LEFT JOIN pgboss.job rj ON rj.name = 'role-sync' AND rj.id::text = rs.job_id
      WHERE rs.user_id::text = ANY($1::text[]) AND rs.action = 'grant'
      ORDER BY rs.user_id, rs.created_at, wj.created_on`,
    [userIds],
  );
  const stages: [string, string, string][] = [
    ['paid -> granting event received', 'paid', 'received'],
    ['received -> job queued (relay)', 'received', 'queued'],
    ['queued -> job started', 'queued', 'started'],
    ['started -> event processed', 'started', 'processed'],
    // Queued inside the apply's transaction (pg-boss stamps the transaction's start): this stage
    // includes the rest of that transaction, its commit and the worker's fetch.
    ['role-sync job queued -> started', 'sync_queued', 'sync_started'],
    ['role-sync started -> granted at auth', 'sync_started', 'synced'],
  ];
  // What else the burst asked of billing: every event it received meanwhile, and how long
  // billing took to answer each delivery (the emulator sends 8 at once, as Stripe does).
  const since = burstWall;
  const {
    rows: [events],
  } = await sys.billingDb.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_events WHERE received_at >= to_timestamp($1::float / 1000)`,
    [since],
  );
  const deliveries = (await fetch(`${sys.emulator.url}/_emulator/deliveries`, {
    headers: { authorization: `Bearer ${sys.emulator.apiKey}` },
  }).then((r) => r.json())) as { data: { attempts: { at: string; duration_ms: number }[] }[] };
  const answers = deliveries.data
    .flatMap((d) => d.attempts)
    .filter((a) => Date.parse(a.at) >= since)
    .map((a) => a.duration_ms);
  log(
    `burst: ${events?.n} events received; billing answered a delivery in p50 ${percentile(answers, 50).toFixed(0)} ms, max ${Math.max(...answers)} ms`,
  );
  const { rows: byType } = await sys.billingDb.query<{ type: string; status: string; n: number; ms: number }>(
    `SELECT e.type, e.status::text, count(*)::int AS n,
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM j.completed_on - j.started_on)) * 1000)::float AS ms
       FROM webhook_events e JOIN pgboss.job j ON j.name = 'webhook-event' AND j.data->>'eventId' = e.id
      WHERE e.received_at >= to_timestamp($1::float / 1000)
      GROUP BY 1, 2 ORDER BY 3 DESC`,
    [since],
  );
  log(
    `  by type (count, p50 job run): ${byType.map((t) => `${t.type} ${t.status} ${t.n} ${t.ms?.toFixed(0)} ms`).join('; ')}`,
  );
  const types = new Map<string, number>();
  for (const row of rows) types.set(String(row.type), (types.get(String(row.type)) ?? 0) + 1);
  log(
    `stages over ${rows.length} users (granting events: ${[...types].map(([t, n]) => `${t} ${n}`).join(', ')}; retries: ${rows.filter((r) => Number(r.retries) > 0 || Number(r.sync_retries) > 0).length})`,
  );
  for (const [label, from, to] of stages) {
    const values = rows
      .map((row) => {
        const a = from === 'paid' ? paidWall.get(String(row.user_id)) : Number(row[from]);
        const b = Number(row[to]);
        return a === undefined || row[to] === null ? Number.NaN : b - a;
      })
      .filter((v) => Number.isFinite(v));
    log(
      `  ${label.padEnd(40)} p50 ${percentile(values, 50).toFixed(0).padStart(6)} ms   max ${Math.max(
        ...values,
      )
        .toFixed(0)
        .padStart(6)} ms`,
    );
  }
}

interface MachineCpu {
  /** This process (the bench and the emulator, which runs in it), CPU-seconds. */
  bench: number;
  /** Every postgres process alive at the sample, CPU-seconds (Linux; 0 elsewhere): pooled backends live through a burst. */
  postgres: number;
  /** Busy and total jiffies of the whole machine (/proc/stat; 0 elsewhere). */
  busy: number;
  total: number;
  at: number;
}

/** What the rest of the machine spent: the burst shares 2 cores with Postgres and the emulator. */
async function machineCpu(): Promise<MachineCpu> {
  const usage = process.cpuUsage();
  const sample: MachineCpu = {
    bench: (usage.user + usage.system) / 1e6,
    postgres: 0,
    busy: 0,
    total: 0,
    at: performance.now(),
  };
  try {
    const [cpu] = (await readFile('/proc/stat', 'utf8')).split('\n');
    const jiffies = (cpu ?? '').split(/\s+/).slice(1).map(Number);
    sample.total = jiffies.reduce((a, b) => a + b, 0);
    sample.busy = sample.total - (jiffies[3] ?? 0) - (jiffies[4] ?? 0); // idle, iowait
    for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sample.postgres += (Number(fields[11]) + Number(fields[12])) / 100;
    }
  } catch {}
  return sample;
}

function machineDelta(a: MachineCpu, b: MachineCpu): string {
  if (b.total === a.total) return '';
  const busy = (100 * (b.busy - a.busy)) / (b.total - a.total);
  return `, Postgres ${(b.postgres - a.postgres).toFixed(1)} s, bench + emulator ${(b.bench - a.bench).toFixed(1)} s; machine ${busy.toFixed(0)}% busy over ${((b.at - a.at) / 1000).toFixed(1)} s`;
}
