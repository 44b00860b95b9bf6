/**
 * Runs one inbox event through the processor and records the result on its
 * row: processed / ignored / flagged / orphaned, or failed with the error (pg-boss
 * retries it with backoff) and finally dead once the attempts are used up.
 *
 * The row is read and written with one raw statement each: these two run
 * for every event of a backlog, and Prisma's model API costs more CPU per
 * call than the statement itself (ADR 0015).
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
import type { Processor } from './processor.js';

export interface EventRunnerDeps {
  db: Db;
  processor: Processor;
  /** Told each run's outcome (and the event's creation at Stripe): metrics. */
  onRan?: (outcome: string, createdAt: Date) => void;
}

export function createEventRunner({ db, processor, onRan }: EventRunnerDeps) {
  async function record(eventId: string, status: string, lastError: string | null, processed: boolean) {
    await db.$executeRaw`
      UPDATE webhook_events
         SET status = ${status}::webhook_event_status, attempts = attempts + 1, last_error = ${lastError},
             processed_at = CASE WHEN ${processed} THEN now() ELSE processed_at END, updated_at = now()
       WHERE id = ${eventId}`;
  }

  /** @param lastAttempt true when pg-boss will not retry this job again. */
  async function run(eventId: string, lastAttempt: boolean): Promise<void> {
    const [row] = await db.$queryRaw<{ status: string; payload: unknown; created: Date }[]>`
      SELECT status::text AS status, payload, created FROM webhook_events WHERE id = ${eventId}`;
    if (!row || row.status === 'processed' || row.status === 'ignored') return;
    try {
      const outcome = await processor.handle(row.payload as Stripe.Event);
      await record(eventId, outcome.status, 'reason' in outcome ? outcome.reason : null, true);
      onRan?.(outcome.status, row.created);
    } catch (error) {
      const status = lastAttempt ? 'dead' : 'failed';
      await record(eventId, status, String((error as Error)?.stack ?? error).slice(0, 4000), false);
      onRan?.(status, row.created);
      throw error;
    }
  }

  return { run };
}

export type EventRunner = ReturnType<typeof createEventRunner>;
