/** Finds any emulated object by id (for `expand`), and the includable fields. */
import { lineItemsList } from './checkout/sessions.js';
import type { Emulator } from './core/emulator.js';
import type { Includes, Resolver } from './core/expand.js';
import { refundsOf } from './payments/payments.js';

export function resolver(em: Emulator): Resolver {
  const s = em.store;
  return (id) => {
    if (id.startsWith('cus_')) {
      if (s.deletedCustomers.has(id)) return { id, object: 'customer', deleted: true };
      return s.customers.get(id);
    }
    if (id.startsWith('prod_')) return s.products.get(id);
    if (id.startsWith('price_')) return s.prices.get(id);
    if (id.startsWith('sub_')) return s.subscriptions.get(id);
    if (id.startsWith('in_')) return s.invoices.get(id);
    if (id.startsWith('ii_')) return s.invoiceItems.get(id);
    if (id.startsWith('inpay_')) return s.invoicePayments.get(id);
    if (id.startsWith('pm_')) return s.paymentMethods.get(id)?.pm;
    if (id.startsWith('pi_')) return s.paymentIntents.get(id);
    if (id.startsWith('ch_')) return s.charges.get(id);
    if (id.startsWith('re_')) return s.refunds.get(id);
    if (id.startsWith('cs_')) return s.checkoutSessions.get(id)?.session;
    if (id.startsWith('clock_')) return s.testClocks.get(id);
    if (id.startsWith('bps_')) return s.portalSessions.get(id);
    if (id.startsWith('evt_')) return s.events.get(id);
    return undefined;
  };
}

export function includes(em: Emulator): Includes {
  return {
    'checkout.session.line_items': (owner) => {
      const record = em.store.checkoutSessions.require(String(owner.id));
      return lineItemsList(record);
    },
    'customer.subscriptions': (owner) => ({
      object: 'list',
      data: em.store.subscriptions
        .newestFirst()
        .filter(
          (sub) => sub.customer === owner.id && !['canceled', 'incomplete_expired'].includes(sub.status),
        ),
      has_more: false,
      url: `/v1/customers/${String(owner.id)}/subscriptions`,
    }),
    'charge.refunds': (owner) => refundsOf(em, String(owner.id)),
    'invoice.payments': (owner) => ({
      object: 'list',
      data: em.store.invoicePayments.newestFirst().filter((p) => p.invoice === owner.id),
      has_more: false,
      url: `/v1/invoice_payments?invoice=${String(owner.id)}`,
    }),
  };
}
