/** GET /api/v1/success and /api/v1/cancel: where Stripe Checkout sends the browser back. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Catalog } from '../../domain/catalog/catalog.js';
import type { Checkout } from '../../domain/checkout/checkout.js';
import type { Trials } from '../../domain/plans/trials.js';
import { html, money, page } from '../site/layout.js';

const Html = Type.String({ description: 'An HTML page' });

export interface PageRoutesOptions {
  checkout: Checkout;
  catalog: Catalog;
  trials: Pick<Trials, 'forSubscription'>;
}

/** The trial line of the success page: given (until when), or refused and why. */
function trialLines(trial: Awaited<ReturnType<Trials['forSubscription']>>): { row: string; note: string } {
  if (!trial) return { row: '', note: '' };
  if (trial.outcome === 'granted')
    return {
      row: `<dt>Free trial</dt><dd>${trial.trialDays} days${trial.trialEnd ? `, until ${html(trial.trialEnd.toISOString().slice(0, 10))}` : ''}</dd>`,
      note: '',
    };
  return {
    row: '<dt>Free trial</dt><dd>none</dd>',
    note: `<p class="note" id="trial-note">${html(trial.reason ?? '')}</p>`,
  };
}

export const pageRoutes: FastifyPluginAsyncTypebox<PageRoutesOptions> = async (
  app,
  { checkout, catalog, trials },
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
        return reply.code(404).send(
          page({
            title: 'Checkout not found',
            narrow: true,
            main: '<h1>We could not find that checkout</h1><p>The link may be incomplete. If you paid, your subscription is on its way: check your account in a minute.</p><p><a class="button" href="/#account">Your account</a></p>',
          }),
        );
      }
      const paid = s.status === 'complete';
      const trial = trialLines(s.subscriptionId ? await trials.forSubscription(s.subscriptionId) : null);
      const heading = paid ? 'Thank you — your payment went through' : 'Your checkout is not finished';
      const next = paid
        ? `<p>Your ${html(s.planName ?? 'subscription')} access${s.role ? ` (role <strong>${html(s.role)}</strong>)` : ''} is being switched on; it takes a few seconds. Log in again on the home page to see it in your account.</p>`
        : '<p>No payment was taken. Go back to the checkout page to finish paying, or pick another plan.</p>';
      return page({
        title: heading,
        narrow: true,
        main: `<h1>${html(heading)}</h1>
<div class="box"><dl>
<dt>Plan</dt><dd>${html(s.planName ?? 'unknown')}${s.interval ? ` — ${html(money(s.amount, s.currency))} per ${html(s.interval)}` : s.amount !== null ? ` — ${html(money(s.amount, s.currency))}, one-time` : ''}</dd>
<dt>Checkout</dt><dd>${html(s.status)} (payment ${html(s.paymentStatus)})</dd>
${s.interval ? `<dt>Subscription</dt><dd>${html(s.subscriptionStatus ?? 'not created yet')}</dd>` : '<dt>Purchase</dt><dd>one-time: no subscription, nothing renews</dd>'}
${trial.row}</dl></div>
${trial.note}${next}
<p><a class="button" href="/#account">Continue</a></p>`,
      });
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
      // Each plan links to the home page with the plan picked: after logging in there, its checkout starts.
      const plans = products
        .flatMap((p) =>
          p.prices
            .filter((price) => price.interval)
            .map(
              (price) =>
                `<li><a href="/?plan=${encodeURIComponent(price.id)}#account">${html(p.name)} — ${html(money(price.unitAmount, price.currency))} per ${html(price.interval)}</a></li>`,
            ),
        )
        .join('');
      reply.type('text/html; charset=utf-8');
      return page({
        title: 'Checkout canceled',
        narrow: true,
        main: `<h1>Checkout canceled</h1>
<div class="box"><p><strong>You were not charged</strong> and no subscription was started.</p></div>
<p>Changed your mind? Pick a plan to start again:</p><ul class="plan-links">${plans}</ul>
<p><a class="button" href="/">Back to tollgate</a></p>`,
      });
    },
  );
};
