/**
 * The hosted checkout page (`session.url`): what is bought and its price, the
 * inputs Stripe's hosted Checkout uses (email, cardNumber, cardExpiry, cardCvc,
 * billingName) and a pay button. Success redirects to success_url.
 */
import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import { payCheckoutSession } from '../../domain/checkout/pay.js';
import type { Emulator } from '../../domain/core/emulator.js';
import type { CheckoutRecord } from '../../domain/core/store.js';
import { escapeHtml, formatAmount, formatDate, page } from './html.js';

function field(body: unknown, name: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

/** `typed`: what the buyer entered, kept on the page after a decline (not the card details). */
function renderCheckout(
  em: Emulator,
  record: CheckoutRecord,
  error: string | null,
  typed: { email?: string; billingName?: string } = {},
): string {
  const email = typed.email ?? '';
  const s = record.session;
  const customer = s.customer ? em.store.customers.get(String(s.customer)) : undefined;
  const fixedEmail = customer?.email ?? s.customer_email;
  const rows = record.lineItems
    .map((li) => {
      const price = li.price as Stripe.Price;
      const per = price.recurring ? ` / ${price.recurring.interval}` : '';
      return `<tr><td>${escapeHtml(li.description)} × ${li.quantity ?? 1}</td><td>${escapeHtml(
        formatAmount(price.unit_amount, price.currency),
      )}${per}</td></tr>`;
    })
    .join('');
  // As Stripe's page does: the trial, and the discount with the code that gave it.
  const discount = s.total_details?.amount_discount ?? 0;
  const promo = s.discounts?.[0]?.promotion_code;
  const code = promo ? em.store.promotionCodes.get(String(promo))?.code : undefined;
  const extras = `${
    record.trialDays ? `<tr id="trial"><td>Free trial</td><td>${record.trialDays} days</td></tr>` : ''
  }${
    discount > 0
      ? `<tr id="discount"><td>Discount${code ? ` (${escapeHtml(code)})` : ''}</td><td>−${escapeHtml(
          formatAmount(discount, s.currency),
        )}</td></tr>`
      : ''
  }`;
  if (s.status !== 'open') {
    const target = s.success_url ?? s.return_url;
    const next =
      s.status === 'complete' && target
        ? `<p><a href="${escapeHtml(target.replaceAll('{CHECKOUT_SESSION_ID}', s.id))}">Continue</a></p>`
        : '';
    return page('Checkout', `<h1>This Checkout Session is ${escapeHtml(s.status)}.</h1>${next}`);
  }
  return page(
    'Checkout',
    `<h1>${s.mode === 'subscription' ? 'Subscribe' : 'Pay'}</h1>
<table><tbody>${rows}${extras}</tbody><tfoot><tr><th>Total due today</th><th id="total">${escapeHtml(
      formatAmount(s.amount_total, s.currency),
    )}</th></tr></tfoot></table>
<form method="post" action="/c/pay/${escapeHtml(s.id)}">
  <label>Email <input name="email" type="email" autocomplete="email" value="${escapeHtml(fixedEmail ?? email)}"${
    fixedEmail ? ' readonly' : ''
  } required></label>
  <label>Card number <input name="cardNumber" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required></label>
  <label>Expiration (MM / YY) <input name="cardExpiry" autocomplete="cc-exp" placeholder="12 / 34" required></label>
  <label>CVC <input name="cardCvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required></label>
  <label>Name on card <input name="billingName" autocomplete="cc-name" value="${escapeHtml(typed.billingName ?? '')}"></label>
  ${s.allow_promotion_codes ? '<label>Promotion code <input name="promotionCode" autocomplete="off"></label>' : ''}
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <button type="submit">${s.mode === 'subscription' ? 'Subscribe' : 'Pay'}</button>
</form>
${s.cancel_url ? `<p><a href="${escapeHtml(s.cancel_url)}">← Back</a></p>` : ''}
<p class="muted">Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined;
4000 0000 0000 0341 is declined here (it attaches but every charge fails). Any future date, any CVC.
Session expires ${escapeHtml(formatDate(s.expires_at))}.</p>`,
  );
}

export async function checkoutPages(app: FastifyInstance, opts: { em: Emulator }): Promise<void> {
  const { em } = opts;
  const notFound = page('Checkout', '<h1>Something went wrong</h1><p>This checkout page does not exist.</p>');

  app.get<{ Params: { id: string } }>('/c/pay/:id', async (request, reply) => {
    const record = em.store.checkoutSessions.get(request.params.id);
    if (!record) return reply.code(404).type('text/html').send(notFound);
    return reply.type('text/html').send(renderCheckout(em, record, null));
  });

  app.post<{ Params: { id: string } }>('/c/pay/:id', async (request, reply) => {
    const record = em.store.checkoutSessions.get(request.params.id);
    if (!record) return reply.code(404).type('text/html').send(notFound);
    const form = {
      email: field(request.body, 'email'),
      cardNumber: field(request.body, 'cardNumber'),
      cardExpiry: field(request.body, 'cardExpiry'),
      cardCvc: field(request.body, 'cardCvc'),
      billingName: field(request.body, 'billingName'),
      promotionCode: field(request.body, 'promotionCode'),
    };
    const outcome = payCheckoutSession(em, record.id, form);
    if (outcome.ok) return reply.redirect(outcome.redirect, 303);
    return reply
      .code(402)
      .type('text/html')
      .send(
        renderCheckout(em, record, outcome.message, { email: form.email, billingName: form.billingName }),
      );
  });
}
