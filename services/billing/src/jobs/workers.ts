/**
 * The queue workers: webhook events, role syncs, the Stripe catch-up, and
 * the timers around them (grace sweep, stranded inbox rows, dependency
 * probes that re-drive held-up work). They run inside the HTTP server
 * (RUN_WORKER=true) or alone (`npm run worker`); any number of processes may
 * run them against one database.
 *
 * Throughput: each worker takes WORKER_BATCH_SIZE jobs per fetch and, while
 * fetches come back full, fetches again at once (pg-boss waits its polling
 * interval after a short fetch only), so a backlog drains at processing
 * speed; the jobs of a batch run at once. A process's jobs in hand are
 * recorded under its liveness lock: when the process dies, the others retry
 * them within QUEUE_REAP_SECONDS (ADR 0015); pg-boss's job heartbeat
 * (QUEUE_HEARTBEAT_SECONDS) is the backstop.
 */
import { jobSpan } from '@tollgate/service-kit';
import type { FastifyBaseLogger } from 'fastify';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import type { Billing } from '../context.js';
import { type HeldJob, startLiveness } from '../queue/liveness.js';
import { QUEUES } from '../queue/queue.js';
import { startDependencyWatch } from './dependency-watch.js';

export interface Workers {
  stop(): Promise<void>;
}

/**
 * Runs `run` on every job of a batch at once and settles each one by itself.
 * A job's time is mostly waiting (Stripe, auth, Postgres), so a batch of N
 * in flight costs about one job's latency instead of N; the database pool
 * queues what exceeds it. Jobs of one batch may finish in any order: every
 * handler is idempotent and order-free (re-fetch from Stripe, apply what is
 * due now).
 */
async function settleEach<T>(
  jobs: JobWithMetadata<T>[],
  run: (job: JobWithMetadata<T>) => Promise<unknown>,
): Promise<JobResult[]> {
  return Promise.all(
    jobs.map(async (job): Promise<JobResult> => {
      try {
        const output = await run(job);
        return { id: job.id, status: 'completed', output: output ?? null };
      } catch (error) {
        return {
          id: job.id,
          status: 'failed',
          output: { message: (error as Error)?.message ?? String(error) },
        };
      }
    }),
  );
}

/** A timer whose failures are logged, never thrown: background work may fail a job, never the process. */
function every(seconds: number, log: FastifyBaseLogger, what: string, fn: () => Promise<void>) {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await fn();
    } catch (error) {
      log.warn({ err: error }, `${what} failed`);
    } finally {
      running = false;
    }
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

export async function startWorkers(billing: Billing, log: FastifyBaseLogger): Promise<Workers> {
  const { boss, config, eventRunner, roleSync, subscriptionSync, entitlementPush, purchases } = billing;
  const w = config.worker;
  const liveness = await startLiveness(
    { db: billing.db, boss, databaseUrl: config.databaseUrl },
    (error, what) => log.warn({ err: error }, `${what} failed`),
  );
  /**
   * Runs a batch with its jobs recorded as in hand (so a kill -9 of this process
   * gets them retried within QUEUE_REAP_SECONDS). Not recorded (Postgres hiccup):
   * run anyway; pg-boss's heartbeat is the slower backstop.
   */
  async function inHand<T>(
    queue: string,
    jobs: JobWithMetadata<T>[],
    run: (job: JobWithMetadata<T>) => Promise<unknown>,
  ): Promise<JobResult[]> {
    const held: HeldJob[] = jobs.map((job) => ({ queue, id: job.id, retryCount: job.retryCount }));
    await liveness.hold(held).catch((error) => log.warn({ err: error }, 'jobs in hand not recorded'));
    try {
      return await settleEach(jobs, run);
    } finally {
      liveness.release(held);
    }
  }
  // NOTIFY wakes workers for new jobs only, not for retries coming due: keep polling at the same pace.
  const polling = {
    pollingIntervalSeconds: w.pollSeconds,
    notifyPollingIntervalSeconds: w.pollSeconds,
    burstWhenBatchFull: true,
    batchSize: w.batchSize,
    includeMetadata: true,
    perJobResults: true,
  } as const;

  /** The trace the job continues; for a webhook job, also the delivery's span it links to. */
  type Traced = { traceparent?: string; delivery?: string };
  await boss.work<{ eventId: string } & Traced>(
    QUEUES.webhook,
    { ...polling, localConcurrency: w.webhookConcurrency },
    (jobs) =>
      // includeMetadata is on (see polling): pg-boss's handler type does not follow it through the spread.
      inHand(QUEUES.webhook, jobs as JobWithMetadata<{ eventId: string } & Traced>[], (job) =>
        jobSpan(
          `job ${QUEUES.webhook}`,
          job.data.traceparent,
          { 'messaging.destination.name': QUEUES.webhook, 'tollgate.event_id': job.data.eventId },
          () => runWebhookJob(job),
          job.data.delivery,
        ),
      ),
  );

  async function runWebhookJob(job: JobWithMetadata<{ eventId: string }>) {
    try {
      await eventRunner.run(job.data.eventId, job.retryCount >= job.retryLimit);
    } catch (error) {
      log.warn(
        { err: error, eventId: job.data.eventId, attempt: job.retryCount + 1 },
        'webhook event failed',
      );
      throw error;
    }
  }

  await boss.work<{ roleSyncId: string } & Traced>(
    QUEUES.roleSync,
    { ...polling, localConcurrency: w.roleSyncConcurrency },
    (jobs) =>
      inHand(QUEUES.roleSync, jobs as JobWithMetadata<{ roleSyncId: string } & Traced>[], (job) =>
        jobSpan(
          `job ${QUEUES.roleSync}`,
          job.data.traceparent,
          { 'messaging.destination.name': QUEUES.roleSync, 'tollgate.role_sync_id': job.data.roleSyncId },
          () => runRoleSyncJob(job),
        ),
      ),
  );

  async function runRoleSyncJob(job: JobWithMetadata<{ roleSyncId: string }>) {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const outcome = await roleSync.run(job.data.roleSyncId);
      billing.metrics.roleSyncRan(outcome, seconds());
      log.info({ roleSyncId: job.data.roleSyncId, outcome }, 'role sync applied');
      return { outcome };
    } catch (error) {
      billing.metrics.roleSyncRan('failed', seconds());
      log.warn({ err: error, roleSyncId: job.data.roleSyncId }, 'role sync failed; will retry');
      throw error;
    }
  }

  await boss.work<{ changeId: string } & Traced>(
    QUEUES.entitlementSync,
    { ...polling, localConcurrency: w.roleSyncConcurrency },
    (jobs) =>
      settleEach(jobs as JobWithMetadata<{ changeId: string } & Traced>[], (job) =>
        jobSpan(
          `job ${QUEUES.entitlementSync}`,
          job.data.traceparent,
          { 'messaging.destination.name': QUEUES.entitlementSync, 'tollgate.change_id': job.data.changeId },
          () => runEntitlementPush(job),
        ),
      ),
  );

  async function runEntitlementPush(job: JobWithMetadata<{ changeId: string }>) {
    try {
      const outcome = await entitlementPush.run(job.data.changeId, (details, message) =>
        log.warn(details, message),
      );
      log.info({ changeId: job.data.changeId, outcome }, 'entitlements pushed to auth');
      return { outcome };
    } catch (error) {
      log.warn({ err: error, changeId: job.data.changeId }, 'entitlements push failed; will retry');
      throw error;
    }
  }

  await boss.work(
    QUEUES.stripeCatchup,
    { pollingIntervalSeconds: w.pollSeconds, notifyPollingIntervalSeconds: w.pollSeconds },
    async () => {
      try {
        const report = await billing.catchup.run();
        if (report.accepted > 0)
          log.warn(report, 'Stripe catch-up found events whose webhooks never arrived');
        return report;
      } catch (error) {
        log.warn({ err: error }, 'Stripe catch-up failed');
        throw error;
      }
    },
  );

  const stops: (() => void)[] = [];
  // Auth also drops a grace-period grant at its expires_at; this makes billing's record agree.
  stops.push(
    every(w.graceSweepSeconds, log, 'dunning sweep', async () => {
      const n = await subscriptionSync.sweepDunning();
      if (n > 0) log.info({ subscriptions: n }, 'dunning steps taken');
      const expired = await purchases.sweepExpired();
      if (expired > 0) log.info({ purchases: expired }, 'purchases ran out');
    }),
  );

  // Inbox rows whose job was never queued (the process died right after accepting them).
  const requeue = async () => {
    const n = await billing.inbox.requeueStranded();
    if (n > 0) log.warn({ events: n }, 'queued webhook events that had no job');
  };
  await requeue().catch((error) => log.warn({ err: error }, 'requeue of stranded webhook events failed'));
  // The relay marks a batch within milliseconds, so 5 s without a job means it never got one:
  // after a kill -9, the events accepted just before it are queued within ~10 s.
  stops.push(every(5, log, 'requeue of stranded webhook events', requeue));

  if (w.catchupSeconds > 0) {
    // Every replica asks; the singleton queue runs one catch-up at a time.
    const askCatchup = async () => {
      await boss.send(QUEUES.stripeCatchup, {}, { singletonKey: 'catchup' });
    };
    await askCatchup().catch((error) => log.warn({ err: error }, 'Stripe catch-up not queued'));
    stops.push(every(w.catchupSeconds, log, 'queueing the Stripe catch-up', askCatchup));
  }

  // Jobs of worker processes that died: retried within seconds (ADR 0015).
  stops.push(
    every(w.reapSeconds, log, 'reaping jobs of dead workers', async () => {
      const n = await liveness.reap();
      if (n > 0) log.warn({ jobs: n }, 'retried the jobs of a worker process that died');
    }),
  );

  const watch = startDependencyWatch(billing, log);

  return {
    async stop() {
      for (const stop of stops) stop();
      watch.stop();
      await boss.offWork(QUEUES.webhook);
      await boss.offWork(QUEUES.roleSync);
      await boss.offWork(QUEUES.entitlementSync);
      await boss.offWork(QUEUES.stripeCatchup);
      await liveness.stop();
    },
  };
}
