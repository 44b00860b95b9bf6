/** GET /api/v1/success and /api/v1/cancel: where Stripe Checkout sends the browser back. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Catalog } from '../../domain/catalog/catalog.js';
import type { Checkout } from '../../domain/checkout/checkout.js';

const html = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function money(amount: number | null, currency: string | null) {
  if (amount == null || !currency) return '';
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(
      amount / 100,
    );
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

function page(title: string, body: string) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)} · tollgate</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}.box{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
dt{color:#666;font-size:.9rem}dd{margin:0 0 .6rem 0;font-weight:600}a.button{display:inline-block;background:#222;color:#fff;padding:.5rem 1rem;border-radius:6px;text-decoration:none}</style>
</head><body>${body}</body></html>`;
}

const Html = Type.String({ description: 'An HTML page' });

export const pageRoutes: FastifyPluginAsyncTypebox<{ checkout: Checkout; catalog: Catalog }> = async (
  app,
  { checkout, catalog },
) => {
  app.get(
    '/success',
    {
      schema: {
        tags: ['pages'],
        summary: 'Page shown after paying on Stripe Checkout',
        querystring: Type.Object(
          { session_id: Type.String({ pattern: '^cs_[A-Za-z0-9_]{1,200}$' }) },
          { additionalProperties: false },
        ),
        produces: ['text/html'],
        response: { 200: Html, 404: Html },
      },
    },
    async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      let s: Awaited<ReturnType<Checkout['describeSession']>>;
      try {
        s = await checkout.describeSession(request.query.session_id);
      } catch (error) {
        if ((error as { code?: string }).code !== 'checkout_session_not_found') throw error;
        return reply
          .code(404)
          .send(
            page(
              'Checkout not found',
              '<h1>We could not find that checkout</h1><p>The link may be incomplete. If you paid, your subscription is on its way: check your subscription in the app in a minute.</p>',
            ),
          );
      }
      const paid = s.status === 'complete';
      const heading = paid ? 'Thank you — your payment went through' : 'Your checkout is not finished';
      const next = paid
        ? `<p>Your ${html(s.planName ?? 'subscription')} access${s.role ? ` (role <strong>${html(s.role)}</strong>)` : ''} is being switched on; it takes a few seconds. Sign in again (or refresh your token) to see it.</p>`
        : '<p>No payment was taken. Go back to the checkout page to finish paying, or pick another plan.</p>';
      return page(
        heading,
        `<h1>${html(heading)}</h1>
<div class="box"><dl>
<dt>Plan</dt><dd>${html(s.planName ?? 'unknown')}${s.interval ? ` — ${html(money(s.amount, s.currency))} per ${html(s.interval)}` : ''}</dd>
<dt>Checkout</dt><dd>${html(s.status)} (payment ${html(s.paymentStatus)})</dd>
<dt>Subscription</dt><dd>${html(s.subscriptionStatus ?? 'not created yet')}</dd>
</dl></div>
${next}
<p><a class="button" href="/">Continue</a></p>`,
      );
    },
  );

  app.get(
    '/cancel',
    {
      schema: {
        tags: ['pages'],
        summary: 'Page shown when the user leaves Stripe Checkout without paying',
        produces: ['text/html'],
        response: { 200: Html },
      },
    },
    async (_request, reply) => {
      const products = await catalog.listSellable();
      const plans = products
        .flatMap((p) =>
          p.prices
            .filter((price) => price.interval)
            .map(
              (price) =>
                `<li>${html(p.name)} — ${html(money(price.unitAmount, price.currency))} per ${html(price.interval)}</li>`,
            ),
        )
        .join('');
      reply.type('text/html; charset=utf-8');
      return page(
        'Checkout canceled',
        `<h1>Checkout canceled</h1>
<div class="box"><p><strong>You were not charged</strong> and no subscription was started.</p></div>
<p>Changed your mind? Pick a plan and start again:</p><ul>${plans}</ul>
<p><a class="button" href="/">Back to tollgate</a></p>`,
      );
    },
  );
};
