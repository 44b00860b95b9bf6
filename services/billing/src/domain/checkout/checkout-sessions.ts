/**
 * The Checkout Sessions billing created, mirrored locally: checkout reads
 * which open session belongs to which price, and the success page renders
 * from here, so an anonymous GET /success costs no Stripe call (Stripe is
 * asked at most once per session every few seconds, and only about sessions
 * that exist here).
 */
import type Stripe from 'stripe';
import type { Sql } from '../../db/prisma.js';
import type { CheckoutSession } from '../../generated/prisma/client.js';
import { fromUnix, idOf } from '../../stripe/client.js';

function sessionFields(session: Stripe.Checkout.Session) {
  const subscription = session.subscription;
  return {
    status: session.status ?? 'open',
    paymentStatus: session.payment_status,
    subscriptionId: idOf(subscription),
    ...(subscription && typeof subscription === 'object' ? { subscriptionStatus: subscription.status } : {}),
    url: session.url ?? null,
    expiresAt: fromUnix(session.expires_at),
  };
}

/** A row as the rest of billing reads it (Prisma's model shape). */
const COLUMNS = `id, customer_id AS "customerId", user_id::text AS "userId", price_id AS "priceId", status,
  payment_status AS "paymentStatus", subscription_id AS "subscriptionId", subscription_status AS "subscriptionStatus",
  url, expires_at AS "expiresAt", refreshed_at AS "refreshedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Plain SQL: every checkout and every completed payment reads and writes these (ADR 0015). */
export function createCheckoutSessions({ sql }: { sql: Sql }) {
  /** Records a session checkout just created (never refreshed yet: the first success page may ask Stripe). */
  async function record(session: Stripe.Checkout.Session, userId: string, priceId: string) {
    const f = sessionFields(session);
    const {
      rows: [row],
    } = await sql.query<CheckoutSession>({
      name: 'checkout-session-record',
      text: `INSERT INTO checkout_sessions (id, customer_id, user_id, price_id, status, payment_status, subscription_id,
               subscription_status, url, expires_at, refreshed_at, updated_at)
             VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10::timestamptz, to_timestamp(0), now())
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, payment_status = EXCLUDED.payment_status,
               subscription_id = EXCLUDED.subscription_id,
               subscription_status = coalesce(EXCLUDED.subscription_status, checkout_sessions.subscription_status),
               url = EXCLUDED.url, expires_at = EXCLUDED.expires_at, refreshed_at = EXCLUDED.refreshed_at,
               updated_at = EXCLUDED.updated_at
             RETURNING ${COLUMNS}`,
      values: [
        session.id,
        idOf(session.customer),
        userId,
        priceId,
        f.status,
        f.paymentStatus,
        f.subscriptionId,
        f.subscriptionStatus ?? null,
        f.url,
        f.expiresAt,
      ],
    });
    return row as CheckoutSession;
  }

  /** Brings a recorded session to what Stripe just said (a session we never recorded is left alone). */
  async function update(session: Stripe.Checkout.Session) {
    const f = sessionFields(session);
    const { rows } = await sql.query<CheckoutSession>({
      name: 'checkout-session-update',
      // The subscription's status only when Stripe gave the subscription (expanded).
      text: `UPDATE checkout_sessions SET status = $2, payment_status = $3, subscription_id = $4,
               subscription_status = CASE WHEN $5::boolean THEN $6 ELSE subscription_status END,
               url = $7, expires_at = $8::timestamptz, refreshed_at = now(), updated_at = now()
             WHERE id = $1
             RETURNING ${COLUMNS}`,
      values: [
        session.id,
        f.status,
        f.paymentStatus,
        f.subscriptionId,
        'subscriptionStatus' in f,
        f.subscriptionStatus ?? null,
        f.url,
        f.expiresAt,
      ],
    });
    return rows[0] ?? null;
  }

  async function find(id: string) {
    const { rows } = await sql.query<CheckoutSession>({
      name: 'checkout-session-find',
      text: `SELECT ${COLUMNS} FROM checkout_sessions WHERE id = $1`,
      values: [id],
    });
    return rows[0] ?? null;
  }

  async function findMany(ids: string[]) {
    const { rows } = await sql.query<CheckoutSession>({
      name: 'checkout-sessions-find',
      text: `SELECT ${COLUMNS} FROM checkout_sessions WHERE id = ANY($1::text[])`,
      values: [ids],
    });
    return rows;
  }

  /**
   * True for exactly one caller per session every `everySeconds`: that caller
   * may ask Stripe; everyone else reads the mirror.
   */
  async function claimRefresh(id: string, everySeconds: number): Promise<boolean> {
    const { rows } = await sql.query({
      name: 'checkout-session-claim-refresh',
      text: `UPDATE checkout_sessions SET refreshed_at = now()
              WHERE id = $1 AND refreshed_at < now() - make_interval(secs => $2::double precision)
             RETURNING id`,
      values: [id, everySeconds],
    });
    return rows.length === 1;
  }

  return { record, update, find, findMany, claimRefresh };
}

export type CheckoutSessions = ReturnType<typeof createCheckoutSessions>;
