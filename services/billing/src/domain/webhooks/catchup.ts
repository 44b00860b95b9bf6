/**
 * Catch-up over Stripe's event list: Stripe stops retrying a webhook after a
 * while (3 days), and a delivery can be lost for good. Every run lists the
 * events created since the last run (`GET /v1/events?created[gte]=`, all
 * pages) and hands each to the inbox exactly as a webhook would be: an event
 * already there is a no-op (primary key), a missing one is stored and
 * processed. So an event is applied once in effect, whichever way it came.
 *
 * Each run re-reads an overlap before its cursor: events of the same second,
 * or committed at Stripe a little after their `created`, are not skipped.
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';

const CURSOR_ID = 'events';

export interface CatchupDeps {
  db: Db;
  stripe: Stripe;
  /** The inbox's accept: true when the event was not stored yet. */
  accept(event: Stripe.Event): Promise<boolean>;
  /** Event types the processor handles; others would only be stored as ignored. */
  handledTypes: readonly string[];
  /** Where the first run starts, seconds before now. */
  lookbackSeconds: number;
  overlapSeconds?: number;
  clock?: { now(): Date };
}

export interface CatchupReport {
  listed: number;
  accepted: number;
  from: string;
  until: string;
}

export function createStripeCatchup({
  db,
  stripe,
  accept,
  handledTypes,
  lookbackSeconds,
  overlapSeconds = 300,
  clock = { now: () => new Date() },
}: CatchupDeps) {
  const handled = new Set(handledTypes);

  async function run(): Promise<CatchupReport> {
    const cursor = await db.stripeCursor.findUnique({ where: { id: CURSOR_ID } });
    const fromSeconds = cursor
      ? Math.floor(cursor.createdUntil.getTime() / 1000) - overlapSeconds
      : Math.floor(clock.now().getTime() / 1000) - lookbackSeconds;
    let until = cursor ? Math.floor(cursor.createdUntil.getTime() / 1000) : fromSeconds;
    let listed = 0;
    let accepted = 0;
    let page: Stripe.Event[] = [];
    // A page's missing events go to the inbox together (one group-committed INSERT). Nearly all
    // were delivered already: one read of their ids spares sending each payload to Postgres
    // again, every run, for the whole overlap (accept would find it stored and change nothing).
    const store = async () => {
      const ids = page.map((event) => event.id);
      const stored = new Set(
        ids.length
          ? (
              await db.$queryRaw<
                { id: string }[]
              >`SELECT id FROM webhook_events WHERE id = ANY(${ids}::text[])`
            ).map((row) => row.id)
          : [],
      );
      const results = await Promise.all(
        page.filter((event) => !stored.has(event.id)).map((event) => accept(event)),
      );
      accepted += results.filter(Boolean).length;
      page = [];
    };
    // Newest first, every page (the SDK follows has_more). No transaction is open meanwhile.
    for await (const event of stripe.events.list({ created: { gte: fromSeconds }, limit: 100 })) {
      listed++;
      until = Math.max(until, event.created);
      if (handled.has(event.type)) page.push(event);
      if (page.length >= 100) await store();
    }
    await store();
    const data = { createdUntil: new Date(until * 1000), lastRunAt: clock.now(), lastAccepted: accepted };
    await db.stripeCursor.upsert({
      where: { id: CURSOR_ID },
      create: { id: CURSOR_ID, ...data },
      update: data,
    });
    return {
      listed,
      accepted,
      from: new Date(fromSeconds * 1000).toISOString(),
      until: data.createdUntil.toISOString(),
    };
  }

  return { run };
}

export type StripeCatchup = ReturnType<typeof createStripeCatchup>;
