/**
 * Runs one inbox event through the processor and records the result on its
 * row: processed / ignored / flagged / orphaned, or failed with the error (pg-boss
 * retries it with backoff) and finally dead once the attempts are used up.
 *
 * Reading the row and recording the result are batched across the events
 * running at the same moment (a worker runs a batch of jobs at once): one
 * SELECT for the rows asked for within a tick, one UPDATE for the results
 * that arrive within `lingerMs`. They run for every event of a backlog, and
 * a statement per event cost more than the rest of the event's work
 * (ADR 0015). A failed batch write fails each of its events' jobs, which
 * pg-boss retries; processing is idempotent, so a retry changes nothing
 * already applied.
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
import type { Processor } from './processor.js';

export interface EventRunnerDeps {
  db: Db;
  processor: Processor;
  /** Told each run's outcome (and the event's creation at Stripe): metrics. */
  onRan?: (outcome: string, createdAt: Date) => void;
  /** How long a result waits for others to share its UPDATE. */
  lingerMs?: number;
}

interface InboxRow {
  id: string;
  status: string;
  payload: unknown;
  created: Date;
  attempts: number;
  /** How long ago it was received (ms, the database's own clock), when it was read. */
  age: number;
}

interface Result {
  id: string;
  status: string;
  last_error: string | null;
  processed: boolean;
}

/** Collects items for `lingerMs` (0: until the end of this tick) and hands them to `flush` together. */
export function microBatch<T, R>(flush: (items: T[]) => Promise<Map<T, R> | undefined>, lingerMs: number) {
  let pending: { item: T; resolve(r: R | undefined): void; reject(e: unknown): void }[] = [];
  let scheduled = false;
  const run = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    flush(batch.map((p) => p.item)).then(
      (results) => {
        for (const p of batch) p.resolve(results?.get(p.item));
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  return (item: T) =>
    new Promise<R | undefined>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setTimeout(run, lingerMs);
      }
    });
}

export function createEventRunner({ db, processor, onRan, lingerMs = 2 }: EventRunnerDeps) {
  const load = microBatch<string, InboxRow & { receivedAt: number }>(async (ids) => {
    const rows = await db.$queryRaw<InboxRow[]>`
      SELECT id, status::text AS status, payload, created, attempts,
             extract(epoch FROM clock_timestamp() - received_at)::float8 * 1000 AS age
        FROM webhook_events WHERE id = ANY(${ids}::text[])`;
    // Receipt on this process's monotonic clock: the age was taken before the answer came back,
    // so this is no earlier than the real receipt, and no host's wall clock is involved.
    const answered = performance.now();
    return new Map(rows.map((row) => [row.id, { ...row, receivedAt: answered - Number(row.age) }]));
  }, 0);

  const record = microBatch<Result, true>(async (results) => {
    await db.$executeRaw`
      UPDATE webhook_events w
         SET status = r.status::webhook_event_status, attempts = w.attempts + 1, last_error = r.last_error,
             processed_at = CASE WHEN r.processed THEN now() ELSE w.processed_at END, updated_at = now()
        FROM json_to_recordset(${JSON.stringify(results)}::json)
             AS r(id text, status text, last_error text, processed boolean)
       WHERE w.id = r.id`;
    return undefined;
  }, lingerMs);

  /** @param lastAttempt true when pg-boss will not retry this job again. */
  async function run(eventId: string, lastAttempt: boolean): Promise<void> {
    const row = await load(eventId);
    if (!row || row.status === 'processed' || row.status === 'ignored') return;
    try {
      // A first attempt may be served by a read of Stripe made since its receipt; a replay
      // (after someone fixed something) or a retry reads afresh.
      const outcome = await processor.handle(
        row.payload as Stripe.Event,
        row.attempts === 0 ? { notBefore: row.receivedAt } : {},
      );
      await record({
        id: eventId,
        status: outcome.status,
        last_error: 'reason' in outcome ? outcome.reason : null,
        processed: true,
      });
      onRan?.(outcome.status, row.created);
    } catch (error) {
      const status = lastAttempt ? 'dead' : 'failed';
      await record({
        id: eventId,
        status,
        last_error: String((error as Error)?.stack ?? error).slice(0, 4000),
        processed: false,
      });
      onRan?.(status, row.created);
      throw error;
    }
  }

  return { run };
}

export type EventRunner = ReturnType<typeof createEventRunner>;
