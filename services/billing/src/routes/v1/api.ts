/** The user-facing JSON API under /api/v1 (the webhook and the HTML pages live beside it). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Billing } from '../../context.js';
import { featuresOfProduct } from '../../domain/entitlements/features.js';
import { isAddonProduct, trialDaysOf } from '../../domain/plans/plan-kinds.js';
import { Problems } from '../../errors.js';
import { createRequireVerifiedEmail, type PreHandler, userOf } from '../../http-guards/authenticate.js';
import {
  bearerSecurity,
  CheckoutView,
  InvoiceView,
  PriceId,
  ProductView,
  PromotionCode,
  problems,
  SubscriptionView,
} from '../schemas.js';
import { entitlementRoutes } from './entitlements.js';
import { describedView, invoiceView } from './views.js';

export interface ApiRoutesOptions {
  billing: Billing;
  requireUser: PreHandler;
}

export const apiRoutes: FastifyPluginAsyncTypebox<ApiRoutesOptions> = async (
  app,
  { billing, requireUser },
) => {
  const { catalog, customers, checkout, subscriptions, invoices, stripe, config, plans, planChanges } =
    billing;
  const described = async (userId: string) => describedView(await plans.describe(userId));
  const authed = { preHandler: requireUser };
  await app.register(entitlementRoutes, { entitlements: billing.entitlements, requireUser });
  const verifiedBuyer = {
    preHandler: [requireUser, createRequireVerifiedEmail(config.requireVerifiedEmail)],
  };

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
          addon: isAddonProduct(p),
          prices: p.prices.map((price) => ({
            id: price.id,
            type: price.interval === null ? ('one_time' as const) : ('recurring' as const),
            currency: price.currency,
            unit_amount: price.unitAmount,
            interval: price.interval,
            interval_count: price.intervalCount,
            lookup_key: price.lookupKey,
            nickname: price.nickname,
            trial_period_days: price.interval === null ? null : trialDaysOf(price, p),
          })),
        })),
      };
    },
  );

  const checkoutSchema = {
    tags: ['billing'],
    security: bearerSecurity,
    description:
      'With REQUIRE_VERIFIED_EMAIL on, answers 403 email_not_verified unless the access token carries email_verified: true.',
    response: { 200: CheckoutView, ...problems(400, 401, 403, 404, 409, 502) },
  };
  app.get(
    '/checkout',
    {
      ...verifiedBuyer,
      schema: {
        ...checkoutSchema,
        summary:
          'Start a Checkout Session for a price (mode from the price: subscription, or payment for one_time)',
        description:
          "A price (or its product) with metadata `trial_period_days` gives a free trial, once per user and per card. `promotion_code` applies that code to a subscription (404 `promotion_code_not_found` when it is unknown or inactive); without it, Stripe's page takes a code. A one_time price starts a purchase (mode=payment): no trial, no code.",
        querystring: Type.Object(
          { price_id: PriceId, promotion_code: Type.Optional(PromotionCode) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) =>
      checkout.start(userOf(request), request.query.price_id, {
        promotionCode: request.query.promotion_code,
      }),
  );
  app.post(
    '/checkout',
    {
      ...verifiedBuyer,
      schema: {
        ...checkoutSchema,
        summary:
          'Start a Checkout Session for a price (mode from the price: subscription, or payment for one_time)',
        body: Type.Object(
          { price_id: PriceId, promotion_code: Type.Optional(PromotionCode) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) =>
      checkout.start(userOf(request), request.body.price_id, {
        promotionCode: request.body.promotion_code,
      }),
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
      schema: subscriptionSchema(
        "The user's plan subscription (the live one, else the latest), with its live add-ons in `addons`",
        [401, 404],
      ),
    },
    async (request) => described(userOf(request).id),
  );
  app.delete(
    '/subscription',
    {
      ...authed,
      schema: subscriptionSchema('Cancel at the end of the paid period (idempotent)', [401, 404, 502]),
    },
    async (request) => {
      await planChanges.detachSchedule(userOf(request).id);
      await subscriptions.cancelAtPeriodEnd(userOf(request).id);
      return described(userOf(request).id);
    },
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
    async (request) => {
      await subscriptions.resume(userOf(request).id);
      return described(userOf(request).id);
    },
  );
  app.put(
    '/subscription',
    {
      ...authed,
      schema: {
        ...subscriptionSchema(
          'Change plan now, prorated, up or down (a downgrade waiting for the period end is dropped)',
          [400, 401, 404, 409, 502],
        ),
        body: Type.Object({ price_id: PriceId }, { additionalProperties: false }),
      },
    },
    async (request) => {
      await planChanges.changeNow(userOf(request).id, request.body.price_id);
      return described(userOf(request).id);
    },
  );
  app.post(
    '/subscription/change',
    {
      ...authed,
      schema: {
        ...subscriptionSchema(
          'Change plan: an upgrade now (the prorated difference is charged now), a downgrade at the period end (`pending_change`)',
          [400, 401, 404, 409, 502],
        ),
        body: Type.Object({ price_id: PriceId }, { additionalProperties: false }),
      },
    },
    async (request) => {
      await planChanges.change(userOf(request).id, request.body.price_id);
      return described(userOf(request).id);
    },
  );
  app.delete(
    '/subscription/change',
    {
      ...authed,
      schema: subscriptionSchema('Cancel the plan change waiting for the period end', [401, 404, 502]),
    },
    async (request) => {
      await planChanges.cancel(userOf(request).id);
      return described(userOf(request).id);
    },
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
      const ids = [...new Set(rows.map((r) => r.subscriptionId).filter((id): id is string => id !== null))];
      const codes = new Map(
        (await plans.promotions.forSubscriptions(ids)).map((d) => [d.subscriptionId, d.code]),
      );
      return { data: rows.map((row) => invoiceView(row, codes)) };
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
