/**
 * Runs one inbox event through the processor and records the result on its
 * row: processed / ignored / flagged / orphaned, or failed with the error (pg-boss
 * retries it with backoff) and finally dead once the attempts are used up.
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
import type { Processor } from './processor.js';

export function createEventRunner({ db, processor }: { db: Db; processor: Processor }) {
  /** @param lastAttempt true when pg-boss will not retry this job again. */
  async function run(eventId: string, lastAttempt: boolean): Promise<void> {
    const row = await db.webhookEvent.findUnique({ where: { id: eventId } });
    if (!row || row.status === 'processed' || row.status === 'ignored') return;
    try {
      const outcome = await processor.handle(row.payload as unknown as Stripe.Event);
      await db.webhookEvent.update({
        where: { id: eventId },
        data: {
          status: outcome.status,
          attempts: { increment: 1 },
          lastError: 'reason' in outcome ? outcome.reason : null,
          processedAt: new Date(),
        },
      });
    } catch (error) {
      await db.webhookEvent.update({
        where: { id: eventId },
        data: {
          status: lastAttempt ? 'dead' : 'failed',
          attempts: { increment: 1 },
          lastError: String((error as Error)?.stack ?? error).slice(0, 4000),
        },
      });
      throw error;
    }
  }

  return { run };
}

export type EventRunner = ReturnType<typeof createEventRunner>;
