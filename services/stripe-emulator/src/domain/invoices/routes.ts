import { type Operation, op } from '../core/route.js';
import { listInvoicePayments, retrieveInvoicePayment } from '../payments/payments.js';
import { listInvoiceLines, listInvoices, payInvoice, retrieveInvoice } from './invoices.js';

export const invoiceRoutes: Operation[] = [
  op('GET', '/v1/invoices', (c) => listInvoices(c.em, c.params)),
  op('GET', '/v1/invoices/:id', (c) => retrieveInvoice(c.em, c.id)),
  op('GET', '/v1/invoices/:id/lines', (c) => listInvoiceLines(c.em, c.id, c.params)),
  op('POST', '/v1/invoices/:id/pay', (c) => payInvoice(c.em, c.id, c.params, c.req)),

  op('GET', '/v1/invoice_payments', (c) => listInvoicePayments(c.em, c.params)),
  op('GET', '/v1/invoice_payments/:id', (c) => retrieveInvoicePayment(c.em, c.id)),
];
