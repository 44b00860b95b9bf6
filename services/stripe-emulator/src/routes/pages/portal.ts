/** The customer portal page (`portal_session.url`): subscriptions with cancel and resume. */
import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import { portalAction, portalSessionFromToken } from '../../domain/billing-portal/portal.js';
import type { Emulator } from '../../domain/core/emulator.js';
import { periodOf } from '../../domain/subscriptions/periods.js';
import { escapeHtml, formatAmount, formatDate, page } from './html.js';

function renderPortal(em: Emulator, session: Stripe.BillingPortal.Session, token: string): string {
  const subs = em.store.subscriptions
    .newestFirst()
    .filter((s) => s.customer === session.customer && !['canceled', 'incomplete_expired'].includes(s.status));
  const cards = subs
    .map((sub) => {
      const item = sub.items.data[0];
      const product = item ? em.store.products.get(String(item.price.product)) : undefined;
      const { end } = periodOf(sub);
      const scheduled = sub.cancel_at !== null;
      const action = scheduled ? 'resume' : 'cancel';
      return `<section data-subscription="${escapeHtml(sub.id)}">
<h2>${escapeHtml(product?.name ?? 'Subscription')}</h2>
<p>${escapeHtml(formatAmount(item?.price.unit_amount ?? 0, sub.currency))} / ${escapeHtml(
        item?.price.recurring?.interval ?? '',
      )} · status <strong>${escapeHtml(sub.status)}</strong></p>
<p>${
        scheduled
          ? `Cancels on ${escapeHtml(formatDate(sub.cancel_at))}.`
          : `Renews on ${escapeHtml(formatDate(end))}.`
      }</p>
<form method="post" action="/p/session/${escapeHtml(token)}/subscriptions/${escapeHtml(sub.id)}/${action}">
<button type="submit" name="action" value="${action}">${scheduled ? 'Renew subscription' : 'Cancel subscription'}</button>
</form></section>`;
    })
    .join('');
  const invoices = em.store.invoices
    .newestFirst()
    .filter((i) => i.customer === session.customer && i.status !== 'draft')
    .map(
      (i) =>
        `<tr><td>${escapeHtml(formatDate(i.created))}</td><td>${escapeHtml(formatAmount(i.total, i.currency))}</td><td>${escapeHtml(i.status)}</td></tr>`,
    )
    .join('');
  return page(
    'Billing',
    `<h1>Billing</h1>${cards || '<p>No active subscriptions.</p>'}
<h2>Invoice history</h2><table><tbody>${invoices}</tbody></table>
${session.return_url ? `<p><a href="${escapeHtml(session.return_url)}">← Return</a></p>` : ''}`,
  );
}

export async function portalPages(app: FastifyInstance, opts: { em: Emulator }): Promise<void> {
  const { em } = opts;
  const notFound = page('Billing', '<h1>This portal session does not exist or has expired.</h1>');

  app.get<{ Params: { token: string } }>('/p/session/:token', async (request, reply) => {
    const session = portalSessionFromToken(em, request.params.token);
    if (!session) return reply.code(404).type('text/html').send(notFound);
    return reply.type('text/html').send(renderPortal(em, session, request.params.token));
  });

  app.post<{ Params: { token: string; sub: string; action: string } }>(
    '/p/session/:token/subscriptions/:sub/:action',
    async (request, reply) => {
      const session = portalSessionFromToken(em, request.params.token);
      const action = request.params.action;
      if (!session || (action !== 'cancel' && action !== 'resume')) {
        return reply.code(404).type('text/html').send(notFound);
      }
      portalAction(em, session, request.params.sub, action);
      return reply.redirect(`/p/session/${request.params.token}`, 303);
    },
  );

  app.get<{ Params: { id: string } }>('/i/:id', async (request, reply) => {
    const invoice = em.store.invoices.get(request.params.id);
    if (!invoice || invoice.status === 'draft') return reply.code(404).type('text/html').send(notFound);
    const lines = invoice.lines.data
      .map(
        (l) =>
          `<tr><td>${escapeHtml(l.description)}</td><td>${escapeHtml(formatAmount(l.amount, l.currency))}</td></tr>`,
      )
      .join('');
    return reply.type('text/html').send(
      page(
        `Invoice ${invoice.number ?? ''}`,
        `<h1>Invoice ${escapeHtml(invoice.number)}</h1><p>Status: <strong>${escapeHtml(invoice.status)}</strong></p>
<table><tbody>${lines}</tbody><tfoot><tr><th>Total</th><th>${escapeHtml(
          formatAmount(invoice.total, invoice.currency),
        )}</th></tr></tfoot></table>`,
      ),
    );
  });
}
