/**
 * The queue workers: webhook events, role syncs, and the grace-period sweep.
 * They run inside the HTTP server (RUN_WORKER=true) or alone (`npm run worker`);
 * any number of processes may run them against one database.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { JobWithMetadata } from 'pg-boss';
import type { Billing } from '../context.js';
import { QUEUES } from '../queue/queue.js';

export interface Workers {
  stop(): Promise<void>;
}

export async function startWorkers(billing: Billing, log: FastifyBaseLogger): Promise<Workers> {
  const { boss, config, eventRunner, roleSync, subscriptionSync } = billing;
  const pollingIntervalSeconds = config.worker.pollSeconds;
  // NOTIFY wakes workers for new jobs only, not for retries coming due: keep polling at the same pace.
  const polling = { pollingIntervalSeconds, notifyPollingIntervalSeconds: pollingIntervalSeconds };

  await boss.work<{ eventId: string }>(
    QUEUES.webhook,
    { ...polling, includeMetadata: true, localConcurrency: 4, batchSize: 1 },
    async (jobs) => {
      const job = jobs[0] as JobWithMetadata<{ eventId: string }> | undefined;
      if (!job) return;
      try {
        await eventRunner.run(job.data.eventId, job.retryCount >= job.retryLimit);
      } catch (error) {
        log.warn(
          { err: error, eventId: job.data.eventId, attempt: job.retryCount + 1 },
          'webhook event failed',
        );
        throw error;
      }
    },
  );

  await boss.work<{ roleSyncId: string }>(
    QUEUES.roleSync,
    { ...polling, localConcurrency: 4, batchSize: 1 },
    async ([job]) => {
      if (!job) return;
      try {
        const outcome = await roleSync.run(job.data.roleSyncId);
        log.info({ roleSyncId: job.data.roleSyncId, outcome }, 'role sync applied');
      } catch (error) {
        log.warn({ err: error, roleSyncId: job.data.roleSyncId }, 'role sync failed; will retry');
        throw error;
      }
    },
  );

  // Auth also drops a grace-period grant at its expires_at; this makes billing's record agree.
  const sweep = async () => {
    try {
      const n = await subscriptionSync.sweepGrace();
      if (n > 0) log.info({ subscriptions: n }, 'grace periods ended');
    } catch (error) {
      log.warn({ err: error }, 'grace sweep failed');
    }
  };
  const timer = setInterval(sweep, config.worker.graceSweepSeconds * 1000);
  timer.unref();

  // Inbox rows whose job was never queued (the process died right after accepting them).
  const requeue = async () => {
    try {
      const n = await billing.inbox.requeueStranded();
      if (n > 0) log.warn({ events: n }, 'queued webhook events that had no job');
    } catch (error) {
      log.warn({ err: error }, 'requeue of stranded webhook events failed');
    }
  };
  await requeue();
  const requeueTimer = setInterval(requeue, 30_000);
  requeueTimer.unref();

  return {
    async stop() {
      clearInterval(timer);
      clearInterval(requeueTimer);
      await boss.offWork(QUEUES.webhook);
      await boss.offWork(QUEUES.roleSync);
    },
  };
}
