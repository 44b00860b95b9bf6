/**
 * The webhook inbox: a verified event is stored under its id, and Stripe
 * gets its 2xx once that is committed; nothing else happens on the request
 * path. Deliveries arriving together share one INSERT (group commit). A
 * second delivery of the same id changes nothing.
 *
 * The inbox row is the durable record; its processing job is handed to
 * pg-boss by a relay that batches many events into one insert (and marks
 * them `enqueued_at`). Rows that never got a job (the process died between
 * the two) are found by `enqueued_at IS NULL` and queued by `requeueStranded`,
 * which the workers run periodically. So an accepted event is always
 * processed, and ingest costs one round trip per event.
 */
import { currentTraceparent } from '@tollgate/service-kit';
import type Stripe from 'stripe';
import type { Db, Sql } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { type Boss, QUEUES, txDb } from '../../queue/queue.js';
import { envelopeProblem } from './envelope.js';

export interface InboxDeps {
  db: Db;
  /** Plain SQL over the same pool: the inserts and marks every delivery pays for skip Prisma's per-query compile. */
  sql: Sql;
  boss: Boss;
  stripe: Stripe;
  webhookSecret: string;
  toleranceSeconds: number;
  /** Whether processing does anything with an event of this type (the processor's handler table). */
  handles(type: string): boolean;
  /** An event stored as `ignored` at receipt (metrics). */
  onIgnored?(createdAt: Date): void;
}

export function createInbox({
  db,
  sql,
  boss,
  stripe,
  webhookSecret,
  toleranceSeconds,
  handles,
  onIgnored,
}: InboxDeps) {
  /**
   * Verifies the signature (raw body, tolerance both ways) and the event's
   * envelope; throws a 400 problem otherwise, so nothing malformed is stored.
   */
  function verify(rawBody: Buffer | string, signature: string | undefined): Stripe.Event {
    if (!signature)
      throw Problems.webhookSignatureMissing('send the Stripe-Signature header Stripe signs the body with');
    let event: unknown;
    try {
      event = stripe.webhooks.constructEvent(rawBody, signature, webhookSecret, toleranceSeconds);
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === 'StripeSignatureVerificationError')
        throw Problems.webhookSignatureInvalid('the signature does not match the body, or is too old');
      throw Problems.webhookPayloadInvalid('the body is not a Stripe event');
    }
    // The SDK bounds only the age of a signature; one dated ahead would stay replayable until then.
    const signedAt = signatureTimestamp(signature);
    if (signedAt === null || signedAt - Math.floor(Date.now() / 1000) > toleranceSeconds)
      throw Problems.webhookSignatureInvalid('the signature is dated in the future');
    const problem = envelopeProblem(event);
    if (problem) throw Problems.webhookPayloadInvalid(problem);
    return event as Stripe.Event;
  }

  const relay = createRelay(sql, boss);
  const writer = createBatchWriter(sql);

  /**
   * Stores the event (its job follows via the relay); false when the id was already in the inbox.
   * An event of a type no handler takes (payment_intent.*, charge.succeeded, ...: about 5 of a
   * payment's 13) is stored as `ignored` and gets no job: queueing, fetching and settling a job
   * that does nothing cost the burst as much CPU as a real one (ADR 0015). `replay` still
   * queues one.
   */
  async function accept(event: Stripe.Event): Promise<boolean> {
    // The trace the event's job continues, stored with the row and carried by the job (ADR 0025):
    // the checkout's, when the object carries it in metadata (Stripe does not send traceparent),
    // else the delivery's. The delivery's span is linked from the job either way.
    const delivery = currentTraceparent();
    const traceparent = originTraceparent(event) ?? delivery;
    const handled = handles(event.type);
    const inserted = await writer.insert(event, traceparent, handled ? 'pending' : 'ignored');
    if (inserted && handled) relay.push(event.id, jobPriority(event.type), traceparent, delivery);
    else if (inserted) onIgnored?.(new Date(event.created * 1000));
    return inserted;
  }

  /** Queues a job for accepted events that never got one (received over `olderThanSeconds` ago). */
  async function requeueStranded(olderThanSeconds = 5): Promise<number> {
    const rows = await db.$queryRaw<{ id: string; type: string; traceparent: string | null }[]>`
      SELECT id, type, traceparent FROM webhook_events
       WHERE enqueued_at IS NULL AND received_at < now() - make_interval(secs => ${olderThanSeconds})
       ORDER BY received_at LIMIT 1000`;
    await relay.send(
      rows.map((r) => ({ id: r.id, priority: jobPriority(r.type), traceparent: r.traceparent })),
    );
    return rows.length;
  }

  /**
   * Puts an event back in line (after a fix, or from the admin panel): status
   * pending again and a fresh job. Works for any stored event.
   */
  async function replay(eventId: string): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const row = await tx.webhookEvent.findUnique({ where: { id: eventId }, select: { id: true } });
      if (!row) return false;
      await tx.webhookEvent.update({
        where: { id: eventId },
        data: { status: 'pending', lastError: null, enqueuedAt: new Date() },
      });
      await boss.send(QUEUES.webhook, { eventId, replay: true }, { db: txDb(tx) });
      return true;
    });
  }

  /**
   * Dead events back in line, automatically, once what killed them (mostly a
   * Stripe outage longer than the retry budget) is healthy again: at most
   * `limit` re-drives per event, so a poison event stops coming back. Rows
   * are claimed with SKIP LOCKED, so replicas doing this at once share them.
   */
  async function redriveDead(limit: number, batch = 500): Promise<{ redriven: number; exhausted: number }> {
    const rows = await db.$queryRaw<{ id: string }[]>`
      UPDATE webhook_events SET status = 'pending', redrive_count = redrive_count + 1,
             redriven_at = now(), enqueued_at = NULL, updated_at = now()
       WHERE id IN (SELECT id FROM webhook_events
                     WHERE status = 'dead' AND redrive_count < ${limit}
                     ORDER BY received_at LIMIT ${batch} FOR UPDATE SKIP LOCKED)
      RETURNING id`;
    // A crash before this leaves enqueued_at null: requeueStranded queues them.
    await relay.send(rows.map((r) => r.id));
    const exhausted = await db.webhookEvent.count({
      where: { status: 'dead', redriveCount: { gte: limit } },
    });
    return { redriven: rows.length, exhausted };
  }

  /** What the health route shows about the inbox: dead events, re-driven ones, ones left for an admin. */
  async function stats(limit: number) {
    const [row] = await db.$queryRaw<
      { dead: number; redriven: number; exhausted: number; waiting: number }[]
    >`
      SELECT count(*) FILTER (WHERE status = 'dead')::int AS dead,
             coalesce(sum(redrive_count), 0)::int AS redriven,
             count(*) FILTER (WHERE status = 'dead' AND redrive_count >= ${limit})::int AS exhausted,
             count(*) FILTER (WHERE status IN ('pending', 'failed'))::int AS waiting
        FROM webhook_events`;
    return row ?? { dead: 0, redriven: 0, exhausted: 0, waiting: 0 };
  }

  return { verify, accept, replay, requeueStranded, redriveDead, stats, flush: relay.flush };
}

/**
 * Events on the path from a payment to a role (checkout, subscription,
 * invoice paid or failed) are fetched ahead of the rest (customer and
 * catalogue updates, drafts of invoices): after a restart or a burst, a
 * backlog of those must not stand between a payment and its role. Order
 * among events never matters for correctness (each re-fetches from Stripe).
 */
export function jobPriority(type: string): number {
  if (type.startsWith('checkout.session.') || type.startsWith('customer.subscription.')) return 1;
  if (type === 'invoice.paid' || type === 'invoice.payment_succeeded' || type === 'invoice.payment_failed')
    return 1;
  return 0;
}

type Metadata = Record<string, unknown> | null | undefined;

/**
 * The traceparent billing put in metadata when it started the checkout: on
 * the object itself (Checkout Session, subscription) or, for an invoice, on
 * the subscription it bills (`parent.subscription_details.metadata`, and
 * `subscription_details.metadata` in older API versions). Null when absent or
 * not a well-formed W3C traceparent.
 */
export function originTraceparent(event: Stripe.Event): string | null {
  const object = event.data.object as {
    metadata?: Metadata;
    parent?: { subscription_details?: { metadata?: Metadata } | null } | null;
    subscription_details?: { metadata?: Metadata } | null;
  };
  for (const metadata of [
    object.metadata,
    object.parent?.subscription_details?.metadata,
    object.subscription_details?.metadata,
  ]) {
    const value = metadata?.traceparent;
    if (typeof value === 'string' && /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(value)) return value;
  }
  return null;
}

/** The `t=` of a Stripe-Signature header (unix seconds), or null. */
export function signatureTimestamp(header: string): number | null {
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2);
    if (key?.trim() === 't' && value && /^\d{1,12}$/.test(value.trim())) return Number(value.trim());
  }
  return null;
}

/** What a new row starts as: waiting for its job, or, for a type nothing handles, done. */
type InitialStatus = 'pending' | 'ignored';

interface PendingInsert {
  event: Stripe.Event;
  traceparent: string | null;
  status: InitialStatus;
  resolve(inserted: boolean): void;
  reject(error: unknown): void;
}

type InboxRow = ReturnType<typeof inboxRow>;

/** The inbox row for a verified event (its envelope was checked by `verify`). */
function inboxRow(event: Stripe.Event, traceparent: string | null, status: InitialStatus) {
  const object = event.data.object as { id?: unknown };
  return {
    id: event.id,
    status,
    type: event.type,
    created: new Date(event.created * 1000).toISOString(),
    api_version: event.api_version ?? null,
    livemode: event.livemode ?? false,
    object_id: typeof object.id === 'string' ? object.id : null,
    payload: event,
    traceparent,
  };
}

/**
 * A row Postgres refuses for its content (SQLSTATE class 22, data exception:
 * e.g. a NUL character, which jsonb cannot hold) is the sender's fault: a
 * 400, so Stripe stops retrying it. Anything else stays a server error.
 */
function rowError(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('22'))
    return Problems.webhookPayloadInvalid(
      'the event holds a value that cannot be stored (e.g. a NUL character)',
    );
  return error;
}

/**
 * Group commit for the inbox: deliveries arriving together are written by one
 * multi-row INSERT (one transaction, one WAL flush), and each is answered
 * once that has committed. A delivery waits at most `lingerMs` for company.
 */
function createBatchWriter(sql: Sql, maxBatch = 200, lingerMs = 2) {
  let pending: PendingInsert[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function insertRows(rows: InboxRow[]): Promise<Set<string>> {
    const { rows: inserted } = await sql.query<{ id: string }>({
      name: 'inbox-insert',
      // An `ignored` row is settled at once: processed and handed on (enqueued_at) at receipt.
      text: `INSERT INTO webhook_events (id, type, created, api_version, livemode, object_id, payload, traceparent,
                                         status, processed_at, enqueued_at, updated_at)
             SELECT id, type, created, api_version, livemode, object_id, payload, traceparent, status,
                    CASE WHEN status = 'ignored' THEN now() END, CASE WHEN status = 'ignored' THEN now() END, now()
               FROM json_populate_recordset(NULL::webhook_events, $1::json)
             ON CONFLICT (id) DO NOTHING
             RETURNING id`,
      values: [JSON.stringify(rows)],
    });
    return new Set(inserted.map((r) => r.id));
  }

  /** The same id twice in one batch: the first is the insert, the rest duplicates. */
  function settle(items: PendingInsert[], fresh: Set<string>) {
    for (const item of items) item.resolve(fresh.delete(item.event.id));
  }

  /** Never rejects: each delivery gets its own answer, and one bad row fails only itself. */
  async function write(batch: PendingInsert[]) {
    const ready: { item: PendingInsert; row: InboxRow }[] = [];
    for (const item of batch) {
      try {
        ready.push({ item, row: inboxRow(item.event, item.traceparent, item.status) });
      } catch (error) {
        item.reject(error);
      }
    }
    if (ready.length === 0) return;
    try {
      settle(
        ready.map((r) => r.item),
        await insertRows(ready.map((r) => r.row)),
      );
      return;
    } catch (error) {
      if (ready.length === 1) {
        ready[0]?.item.reject(rowError(error));
        return;
      }
    }
    // One row Postgres refuses must not fail the good deliveries it shared the INSERT with.
    for (const { item, row } of ready) {
      try {
        settle([item], await insertRows([row]));
      } catch (error) {
        item.reject(rowError(error));
      }
    }
  }

  function flush() {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length > 0)
      write(batch).catch((error: unknown) => {
        for (const item of batch) item.reject(error);
      });
  }

  return {
    insert(event: Stripe.Event, traceparent: string | null, status: InitialStatus): Promise<boolean> {
      return new Promise<boolean>((resolve, reject) => {
        pending.push({ event, traceparent, status, resolve, reject });
        if (pending.length >= maxBatch) flush();
        else timer ??= setTimeout(flush, lingerMs);
      });
    },
  };
}

/**
 * Collects accepted event ids and hands them to pg-boss in batches, one
 * insert at a time. The mark on the inbox rows (`enqueued_at`, read only by
 * `requeueStranded`) follows each insert without holding up the next one:
 * under a burst, waiting for it doubled every event's way to its job
 * (ADR 0015). A mark that fails or comes late leaves a row looking stranded
 * for a moment at most, and its second job changes nothing (processing is
 * idempotent).
 */
function createRelay(sql: Sql, boss: Boss, maxBatch = 500, lingerMs = 10) {
  type Queued = { id: string; priority: number; traceparent?: string | null; delivery?: string | null };
  let pending: Queued[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inserts: Promise<void> = Promise.resolve();
  const marks = new Set<Promise<void>>();

  async function insert(events: (string | Queued)[]): Promise<string[]> {
    if (events.length === 0) return [];
    const jobs = events.map((e): Queued => (typeof e === 'string' ? { id: e, priority: 0 } : e));
    await boss.insert(
      QUEUES.webhook,
      jobs.map(({ id, priority, traceparent, delivery }) => ({
        data: {
          eventId: id,
          ...(traceparent ? { traceparent } : {}),
          ...(delivery && delivery !== traceparent ? { delivery } : {}),
        },
        priority,
      })),
    );
    return jobs.map((j) => j.id);
  }

  async function mark(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql.query({
      name: 'inbox-mark-enqueued',
      text: 'UPDATE webhook_events SET enqueued_at = now() WHERE id = ANY($1::text[])',
      values: [ids],
    });
  }

  /** Queues jobs and marks the rows, both done when it resolves (requeueStranded, redriveDead). */
  async function send(events: (string | Queued)[]): Promise<void> {
    await mark(await insert(events));
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    // A failed batch stays unmarked; requeueStranded picks it up.
    inserts = inserts
      .then(() => insert(batch))
      .then((ids) => {
        const marked = mark(ids).catch(() => {});
        marks.add(marked);
        void marked.finally(() => marks.delete(marked));
      })
      .catch(() => {});
    return inserts.then(() => Promise.all(marks)).then(() => {});
  }

  return {
    send,
    flush,
    push(id: string, priority: number, traceparent: string | null, delivery: string | null) {
      pending.push({ id, priority, traceparent, delivery });
      if (pending.length >= maxBatch) void flush();
      else timer ??= setTimeout(() => void flush(), lingerMs);
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
