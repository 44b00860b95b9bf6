/** The user-facing JSON API under /api/v1 (the webhook and the HTML pages live beside it). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Billing } from '../../context.js';
import { featuresOfProduct } from '../../domain/entitlements/features.js';
import { Problems } from '../../errors.js';
import { type PreHandler, userOf } from '../../http-guards/authenticate.js';
import {
  bearerSecurity,
  CheckoutView,
  InvoiceView,
  PriceId,
  ProductView,
  problems,
  SubscriptionView,
} from '../schemas.js';
import { entitlementRoutes } from './entitlements.js';
import { invoiceView, subscriptionView } from './views.js';

export interface ApiRoutesOptions {
  billing: Billing;
  requireUser: PreHandler;
}

export const apiRoutes: FastifyPluginAsyncTypebox<ApiRoutesOptions> = async (
  app,
  { billing, requireUser },
) => {
  const { catalog, customers, checkout, subscriptions, invoices, stripe, config } = billing;
  const authed = { preHandler: requireUser };
  await app.register(entitlementRoutes, { entitlements: billing.entitlements, requireUser });

  app.post(
    '/customer',
    {
      ...authed,
      schema: {
        tags: ['billing'],
        summary: "The user's Stripe customer, created on first call (one per user, idempotent)",
        description:
          "The customer's email and name are the user's current ones, asked of auth (not the token's claims).",
        security: bearerSecurity,
        response: {
          200: Type.Object({ user_id: Type.String(), customer_id: Type.String() }),
          ...problems(401, 404, 502),
        },
      },
    },
    async (request) => {
      const customer = await customers.ensureCustomer(userOf(request));
      return { user_id: customer.userId as string, customer_id: customer.id };
    },
  );

  app.get(
    '/products',
    {
      schema: {
        tags: ['billing'],
        summary: 'Products on sale, with their features, active prices and the role each grants',
        response: { 200: Type.Object({ data: Type.Array(ProductView) }) },
      },
    },
    async () => {
      const products = await catalog.listSellable();
      return {
        data: products.map((p) => ({
          id: p.id,
          name: p.name,
          description: p.description,
          role: p.role,
          features: featuresOfProduct(p.features),
          prices: p.prices.map((price) => ({
            id: price.id,
            type: price.interval === null ? ('one_time' as const) : ('recurring' as const),
            currency: price.currency,
            unit_amount: price.unitAmount,
            interval: price.interval,
            interval_count: price.intervalCount,
            lookup_key: price.lookupKey,
            nickname: price.nickname,
          })),
        })),
      };
    },
  );

  const checkoutSchema = {
    tags: ['billing'],
    security: bearerSecurity,
    response: { 200: CheckoutView, ...problems(400, 401, 404, 409, 502) },
  };
  app.get(
    '/checkout',
    {
      ...authed,
      schema: {
        ...checkoutSchema,
        summary:
          'Start a Checkout Session for a price (mode from the price: subscription, or payment for one_time)',
        querystring: Type.Object({ price_id: PriceId }, { additionalProperties: false }),
      },
    },
    async (request) => checkout.start(userOf(request), request.query.price_id),
  );
  app.post(
    '/checkout',
    {
      ...authed,
      schema: {
        ...checkoutSchema,
        summary:
          'Start a Checkout Session for a price (mode from the price: subscription, or payment for one_time)',
        body: Type.Object({ price_id: PriceId }, { additionalProperties: false }),
      },
    },
    async (request) => checkout.start(userOf(request), request.body.price_id),
  );

  const subscriptionSchema = (summary: string, statuses: number[]) => ({
    tags: ['billing'],
    summary,
    security: bearerSecurity,
    response: { 200: SubscriptionView, ...problems(...statuses) },
  });
  app.get(
    '/subscription',
    {
      ...authed,
      schema: subscriptionSchema("The user's subscription (the live one, else the latest)", [401, 404]),
    },
    async (request) => subscriptionView(await subscriptions.current(userOf(request).id)),
  );
  app.delete(
    '/subscription',
    {
      ...authed,
      schema: subscriptionSchema('Cancel at the end of the paid period (idempotent)', [401, 404, 502]),
    },
    async (request) => subscriptionView(await subscriptions.cancelAtPeriodEnd(userOf(request).id)),
  );
  app.post(
    '/subscription',
    {
      ...authed,
      schema: subscriptionSchema(
        'Resume a subscription set to cancel (409 when it is not)',
        [401, 404, 409, 502],
      ),
    },
    async (request) => subscriptionView(await subscriptions.resume(userOf(request).id)),
  );
  app.put(
    '/subscription',
    {
      ...authed,
      schema: {
        ...subscriptionSchema('Change plan (prorated)', [400, 401, 404, 409, 502]),
        body: Type.Object({ price_id: PriceId }, { additionalProperties: false }),
      },
    },
    async (request) =>
      subscriptionView(await subscriptions.changePlan(userOf(request).id, request.body.price_id)),
  );

  app.get(
    '/invoices',
    {
      ...authed,
      schema: {
        tags: ['billing'],
        summary: "The user's invoices, newest first",
        security: bearerSecurity,
        response: { 200: Type.Object({ data: Type.Array(InvoiceView) }), ...problems(401) },
      },
    },
    async (request) => {
      const customer = await customers.findByUser(userOf(request).id);
      const rows = customer ? await invoices.listForCustomer(customer.id) : [];
      return { data: rows.map(invoiceView) };
    },
  );

  app.get(
    '/portal',
    {
      ...authed,
      schema: {
        tags: ['billing'],
        summary: "A Stripe customer portal session for the user's customer",
        security: bearerSecurity,
        response: { 200: Type.Object({ url: Type.String() }), ...problems(401, 404, 502) },
      },
    },
    async (request) => {
      const customer = await customers.findByUser(userOf(request).id);
      if (!customer) throw Problems.customerNotFound('you have no billing account yet; subscribe first');
      const session = await stripe.billingPortal.sessions.create({
        customer: customer.id,
        return_url: config.urls.portalReturn,
      });
      return { url: session.url };
    },
  );
};
