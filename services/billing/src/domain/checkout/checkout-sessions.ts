/**
 * The Checkout Sessions billing created, mirrored locally: checkout reads
 * which open session belongs to which price, and the success page renders
 * from here, so an anonymous GET /success costs no Stripe call (Stripe is
 * asked at most once per session every few seconds, and only about sessions
 * that exist here).
 */
import type Stripe from 'stripe';
import type { Db } from '../../db/prisma.js';
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

export function createCheckoutSessions({ db }: { db: Db }) {
  /** Records a session checkout just created (never refreshed yet: the first success page may ask Stripe). */
  async function record(session: Stripe.Checkout.Session, userId: string, priceId: string) {
    const fields = { ...sessionFields(session), refreshedAt: new Date(0) };
    return db.checkoutSession.upsert({
      where: { id: session.id },
      create: { id: session.id, customerId: idOf(session.customer) as string, userId, priceId, ...fields },
      update: fields,
    });
  }

  /** Brings a recorded session to what Stripe just said (a session we never recorded is left alone). */
  async function update(session: Stripe.Checkout.Session) {
    await db.checkoutSession.updateMany({
      where: { id: session.id },
      data: { ...sessionFields(session), refreshedAt: new Date() },
    });
    return find(session.id);
  }

  async function find(id: string) {
    return db.checkoutSession.findUnique({ where: { id } });
  }

  async function findMany(ids: string[]) {
    return db.checkoutSession.findMany({ where: { id: { in: ids } } });
  }

  /**
   * True for exactly one caller per session every `everySeconds`: that caller
   * may ask Stripe; everyone else reads the mirror.
   */
  async function claimRefresh(id: string, everySeconds: number): Promise<boolean> {
    const claimed = await db.$executeRaw`
      UPDATE checkout_sessions SET refreshed_at = now()
       WHERE id = ${id} AND refreshed_at < now() - make_interval(secs => ${everySeconds}::double precision)`;
    return claimed === 1;
  }

  return { record, update, find, findMany, claimRefresh };
}

export type CheckoutSessions = ReturnType<typeof createCheckoutSessions>;
