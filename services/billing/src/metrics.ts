/**
 * Billing's own Prometheus series (ADR 0016), beside the HTTP RED and
 * process metrics every service has (@tollgate/service-kit). Counters and
 * histograms are fed where the work happens (the webhook route, the event
 * runner, the role-sync worker, the Stripe client's response events); the
 * queue gauges (inbox depth, dead letters, outbox) are read from Postgres at
 * scrape time, so every replica reports the same shared truth and a process
 * that just started does not report zero.
 */
import {
  Counter,
  createMetricsRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  type Registry,
} from '@tollgate/service-kit';
import type Stripe from 'stripe';
import type { Db } from './db/prisma.js';

/** Seconds from Stripe creating an event to billing applying it (1 s .. 1 h). */
const LAG_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];

/** Stripe object ids in a request path (`/v1/customers/cus_123`), so a path becomes a bounded `resource`. */
const STRIPE_ID = /^(?:[a-z]+_[A-Za-z0-9]*\d|(?:cus|sub|in|price|prod|cs|evt|pi|ch|si|ii|pm|seti|bps)_)/;

/** `/v1/customers/cus_123/balance` -> `customers/:id/balance`. */
export function stripeResource(path: string): string {
  return (
    path
      .split('?')[0]
      ?.split('/')
      .filter((segment) => segment && segment !== 'v1')
      .map((segment) => (STRIPE_ID.test(segment) ? ':id' : segment))
      .join('/') ?? ''
  );
}

export function createBillingMetrics(db: Db, registry: Registry = createMetricsRegistry('billing')) {
  const received = new Counter({
    name: 'billing_webhook_events_received_total',
    help: 'Webhook events accepted (signature and envelope valid), by event type; duplicates included',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'billing_webhook_events_duplicate_total',
    help: 'Webhook deliveries of an event id already in the inbox (Stripe retries, replays): nothing changed',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const processed = new Counter({
    name: 'billing_webhook_events_processed_total',
    help: 'Inbox events run, by outcome (processed, ignored, flagged, orphaned, failed, dead)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'billing_webhook_processing_lag_seconds',
    help: "Seconds from the event's creation at Stripe to billing having applied it",
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  const roleSyncDuration = new Histogram({
    name: 'billing_role_sync_duration_seconds',
    help: 'Time one role-sync job took (the calls to auth included), by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const roleSyncFailures = new Counter({
    name: 'billing_role_sync_failures_total',
    help: 'Role-sync attempts that failed (auth unreachable or refusing); the job is retried with backoff',
    registers: [registry],
  });
  const stripeRequests = new Counter({
    name: 'billing_stripe_requests_total',
    help: 'Stripe API requests answered, by method, resource and outcome (success, client_error, server_error, rate_limited)',
    labelNames: ['method', 'resource', 'outcome'] as const,
    registers: [registry],
  });
  const stripeSent = new Counter({
    name: 'billing_stripe_requests_sent_total',
    help: 'Stripe API requests sent; sent minus answered is requests that got no answer (network errors, timeouts)',
    labelNames: ['method', 'resource'] as const,
    registers: [registry],
  });
  const stripeDuration = new Histogram({
    name: 'billing_stripe_request_duration_seconds',
    help: 'Stripe API latency, by method and resource',
    labelNames: ['method', 'resource'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  roleSyncFailures.inc(0);

  /** Read at scrape time; a failing query leaves the previous value (the scrape itself still answers). */
  const fromDb = (name: string, help: string, read: () => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(await read());
        } catch {
          // Postgres unreachable: the service's readiness says so; keep the last value.
        }
      },
    });
  const queueState = async () => {
    const [row] = await db.$queryRaw<
      {
        inbox: number;
        inbox_age: number;
        dead: number;
        outbox: number;
        outbox_age: number;
      }[]
    >`
      SELECT (SELECT count(*) FROM webhook_events WHERE status IN ('pending', 'failed'))::int AS inbox,
             coalesce((SELECT extract(epoch FROM now() - min(received_at)) FROM webhook_events
                        WHERE status IN ('pending', 'failed')), 0)::float AS inbox_age,
             (SELECT count(*) FROM webhook_events WHERE status = 'dead')::int AS dead,
             (SELECT count(*) FROM role_syncs WHERE status IN ('pending', 'retrying'))::int AS outbox,
             coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM role_syncs
                        WHERE status IN ('pending', 'retrying')), 0)::float AS outbox_age`;
    return row;
  };
  // One query per scrape for all five gauges: the first collect() reads, the others reuse it.
  let snapshot: Promise<Awaited<ReturnType<typeof queueState>>> | undefined;
  const read = (pick: (row: NonNullable<Awaited<ReturnType<typeof queueState>>>) => number) => async () => {
    snapshot ??= queueState().finally(() => setImmediate(() => (snapshot = undefined)));
    const row = await snapshot;
    if (!row) throw new Error('no row');
    return pick(row);
  };
  fromDb(
    'billing_inbox_depth',
    'Inbox events waiting to be applied (pending or failed and retrying)',
    read((r) => r.inbox),
  );
  fromDb(
    'billing_inbox_oldest_age_seconds',
    'Age of the oldest inbox event still waiting',
    read((r) => r.inbox_age),
  );
  fromDb(
    'billing_webhook_dead_letters',
    'Inbox events dead-lettered (retries used up) and not re-driven yet',
    read((r) => r.dead),
  );
  fromDb(
    'billing_outbox_pending',
    'Role syncs not applied at auth yet (pending or retrying)',
    read((r) => r.outbox),
  );
  fromDb(
    'billing_outbox_oldest_age_seconds',
    'Age of the oldest role sync not applied yet',
    read((r) => r.outbox_age),
  );

  return {
    registry,
    webhookAccepted(type: string, stored: boolean) {
      received.inc({ type });
      if (!stored) duplicates.inc({ type });
    },
    /** An inbox event ran: its outcome, and (once applied) the lag since Stripe created it. */
    eventRan(outcome: string, createdAt?: Date) {
      processed.inc({ outcome });
      if (createdAt && outcome !== 'failed' && outcome !== 'dead')
        lag.observe(Math.max(0, (Date.now() - createdAt.getTime()) / 1000));
    },
    roleSyncRan(outcome: string, seconds: number) {
      roleSyncDuration.observe({ outcome }, seconds);
      if (outcome === 'failed') roleSyncFailures.inc();
    },
    /** Counts and times every call the Stripe SDK makes. */
    observeStripe(stripe: Stripe) {
      stripe.on('request', (request: Stripe.RequestEvent) => {
        stripeSent.inc({ method: request.method, resource: stripeResource(request.path) });
      });
      stripe.on('response', (response: Stripe.ResponseEvent) => {
        const labels = { method: response.method, resource: stripeResource(response.path) };
        const outcome =
          response.status === 429
            ? 'rate_limited'
            : response.status >= 500
              ? 'server_error'
              : response.status >= 400
                ? 'client_error'
                : 'success';
        stripeRequests.inc({ ...labels, outcome });
        stripeDuration.observe(labels, response.elapsed / 1000);
      });
    },
  };
}

export type BillingMetrics = ReturnType<typeof createBillingMetrics>;
