/**
 * The webhook inbox: a verified event is stored under its id together with
 * the job that will process it, in one transaction, and nothing else happens
 * before Stripe gets its 2xx. A second delivery of the same id changes nothing.
 */
import type Stripe from 'stripe';
import type { Db, Prisma } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { type Boss, QUEUES, txDb } from '../../queue/queue.js';

export interface InboxDeps {
  db: Db;
  boss: Boss;
  stripe: Stripe;
  webhookSecret: string;
  toleranceSeconds: number;
}

export function createInbox({ db, boss, stripe, webhookSecret, toleranceSeconds }: InboxDeps) {
  /** Verifies the signature (raw body, tolerance) and parses the event; throws a 400 problem otherwise. */
  function verify(rawBody: Buffer | string, signature: string | undefined): Stripe.Event {
    if (!signature)
      throw Problems.webhookSignatureMissing('send the Stripe-Signature header Stripe signs the body with');
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(rawBody, signature, webhookSecret, toleranceSeconds);
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === 'StripeSignatureVerificationError')
        throw Problems.webhookSignatureInvalid('the signature does not match the body, or is too old');
      throw Problems.webhookPayloadInvalid('the body is not a Stripe event');
    }
    if (typeof event?.id !== 'string' || typeof event.type !== 'string')
      throw Problems.webhookPayloadInvalid('the body is not a Stripe event');
    return event;
  }

  /** Stores the event and its processing job; false when the event id was already in the inbox. */
  async function accept(event: Stripe.Event): Promise<boolean> {
    const object = event.data?.object as { id?: unknown } | undefined;
    return db.$transaction(async (tx) => {
      const { count } = await tx.webhookEvent.createMany({
        data: [
          {
            id: event.id,
            type: event.type,
            created: new Date(event.created * 1000),
            apiVersion: event.api_version ?? null,
            livemode: event.livemode,
            objectId: typeof object?.id === 'string' ? object.id : null,
            payload: event as unknown as Prisma.InputJsonValue,
          },
        ],
        skipDuplicates: true,
      });
      if (count === 0) return false;
      await boss.send(QUEUES.webhook, { eventId: event.id }, { db: txDb(tx) });
      return true;
    });
  }

  /**
   * Puts an event back in line (after a fix, or from the admin panel): status
   * pending again and a fresh job. Works for any stored event.
   */
  async function replay(eventId: string): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const row = await tx.webhookEvent.findUnique({ where: { id: eventId }, select: { id: true } });
      if (!row) return false;
      await tx.webhookEvent.update({ where: { id: eventId }, data: { status: 'pending', lastError: null } });
      await boss.send(QUEUES.webhook, { eventId, replay: true }, { db: txDb(tx) });
      return true;
    });
  }

  return { verify, accept, replay };
}

export type Inbox = ReturnType<typeof createInbox>;
