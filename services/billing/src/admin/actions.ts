/**
 * What the admin panel's buttons do, each one call into billing's own
 * services (so an admin action follows the same path as a webhook would:
 * Stripe first, then the local state re-fetched from Stripe, with role
 * syncs written in the same transaction).
 */
import type { Billing } from '../context.js';
import { upsertCustomer } from '../domain/customers/customers.js';
import { idOf } from '../stripe/client.js';
import type { AdminActions } from './resources.js';

export function createAdminActions(billing: Billing): AdminActions {
  const { db, stripe } = billing;

  return {
    userHistory: (userId) => billing.auditLog.historyOf(userId, 100),

    async cancelSubscriptionNow(subscriptionId) {
      await stripe.subscriptions.cancel(
        subscriptionId,
        {},
        { idempotencyKey: `admin-cancel-${subscriptionId}` },
      );
      const result = await billing.subscriptionSync.sync(subscriptionId, {
        type: 'admin',
        detail: 'admin panel: cancel now',
      });
      return `Canceled ${subscriptionId} at Stripe; status ${result.status}, ${result.changes} role change(s) queued.`;
    },

    async refundLatestInvoice(subscriptionId) {
      const invoice = await db.invoice.findFirst({
        where: { subscriptionId, status: 'paid', amountPaid: { gt: 0 } },
        orderBy: { stripeCreatedAt: 'desc' },
      });
      if (!invoice) throw new Error('this subscription has no paid invoice to refund');
      // Since API 2025-03-31 an invoice reaches its PaymentIntent through its invoice payments.
      const payments = await stripe.invoicePayments.list({ invoice: invoice.id, limit: 10 });
      const paid = payments.data.find((p) => p.status === 'paid' && p.payment.type === 'payment_intent');
      const paymentIntent = idOf(paid?.payment.payment_intent ?? null);
      if (!paymentIntent) throw new Error(`invoice ${invoice.id} has no paid payment to refund`);
      const refund = await stripe.refunds.create(
        { payment_intent: paymentIntent, reason: 'requested_by_customer', metadata: { invoice: invoice.id } },
        { idempotencyKey: `admin-refund-${invoice.id}` },
      );
      await billing.invoices.refresh(invoice.id);
      return `Refunded ${(refund.amount / 100).toFixed(2)} ${refund.currency.toUpperCase()} of ${invoice.id} (${refund.id}).`;
    },

    async resyncCustomer(customerId) {
      await upsertCustomer(db, await stripe.customers.retrieve(customerId));
      let subscriptions = 0;
      for await (const subscription of stripe.subscriptions.list({
        customer: customerId,
        status: 'all',
        limit: 100,
      })) {
        await billing.subscriptionSync.sync(subscription.id, {
          type: 'admin',
          detail: 'admin panel: resync',
        });
        subscriptions++;
      }
      let invoices = 0;
      for await (const invoice of stripe.invoices.list({ customer: customerId, limit: 100 })) {
        await billing.invoices.refresh(invoice.id);
        invoices++;
      }
      return `Resynced ${customerId}: ${subscriptions} subscription(s), ${invoices} invoice(s).`;
    },

    async replayWebhookEvent(eventId) {
      if (!(await billing.inbox.replay(eventId))) throw new Error(`no event ${eventId} in the inbox`);
      return `Event ${eventId} queued for processing again.`;
    },

    async retryRoleSync(roleSyncId) {
      if (!(await billing.roleSyncAdmin.retry(roleSyncId))) throw new Error(`no role sync ${roleSyncId}`);
      return `Role sync ${roleSyncId} queued again.`;
    },
  };
}
