import { type Operation, op } from '../core/route.js';
import { listInvoicePayments, retrieveInvoicePayment } from '../payments/payments.js';
import {
  createManualInvoice,
  createPreview,
  deleteDraftInvoice,
  finalizeInvoiceApi,
  markUncollectible,
  payInvoice,
  updateInvoice,
  voidInvoice,
} from './invoice-api.js';
import {
  createInvoiceItem,
  deleteInvoiceItem,
  listInvoiceItems,
  retrieveInvoiceItem,
  updateInvoiceItem,
} from './invoice-items.js';
import { listInvoiceLines, listInvoices, retrieveInvoice, searchInvoices } from './invoices.js';

export const invoiceRoutes: Operation[] = [
  op('POST', '/v1/invoices', (c) => createManualInvoice(c.em, c.params, c.req)),
  op('GET', '/v1/invoices', (c) => listInvoices(c.em, c.params)),
  op('GET', '/v1/invoices/search', (c) => searchInvoices(c.em, c.params)),
  op('POST', '/v1/invoices/create_preview', (c) => createPreview(c.em, c.params)),
  op('GET', '/v1/invoices/:id', (c) => retrieveInvoice(c.em, c.id)),
  op('POST', '/v1/invoices/:id', (c) => updateInvoice(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/invoices/:id', (c) => deleteDraftInvoice(c.em, c.id, c.req)),
  op('GET', '/v1/invoices/:id/lines', (c) => listInvoiceLines(c.em, c.id, c.params)),
  op('POST', '/v1/invoices/:id/finalize', (c) => finalizeInvoiceApi(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/invoices/:id/pay', (c) => payInvoice(c.em, c.id, c.params, c.req)),
  op('POST', '/v1/invoices/:id/void', (c) => voidInvoice(c.em, c.id, c.req)),
  op('POST', '/v1/invoices/:id/mark_uncollectible', (c) => markUncollectible(c.em, c.id, c.req)),

  op('POST', '/v1/invoiceitems', (c) => createInvoiceItem(c.em, c.params, c.req)),
  op('GET', '/v1/invoiceitems', (c) => listInvoiceItems(c.em, c.params)),
  op('GET', '/v1/invoiceitems/:id', (c) => retrieveInvoiceItem(c.em, c.id)),
  op('POST', '/v1/invoiceitems/:id', (c) => updateInvoiceItem(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/invoiceitems/:id', (c) => deleteInvoiceItem(c.em, c.id, c.req)),

  op('GET', '/v1/invoice_payments', (c) => listInvoicePayments(c.em, c.params)),
  op('GET', '/v1/invoice_payments/:id', (c) => retrieveInvoicePayment(c.em, c.id)),
];
