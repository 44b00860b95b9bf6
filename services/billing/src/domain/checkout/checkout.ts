/** Checkout Sessions (subscription mode) for the user's one customer. */
import type Stripe from 'stripe';
import type { Config } from '../../config.js';
import { Problems } from '../../errors.js';
import { isResourceMissing } from '../../stripe/client.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import type { BillingUser, Customers } from '../customers/customers.js';
import type { SubscriptionsService } from '../subscriptions/subscriptions.service.js';

export interface CheckoutDeps {
  stripe: Stripe;
  catalog: Catalog;
  customers: Customers;
  subscriptions: SubscriptionsService;
  urls: Config['urls'];
  clock: Clock;
}

// Repeated clicks within this window get the same session back from Stripe.
const IDEMPOTENCY_WINDOW_MS = 10 * 60_000;

export function createCheckout({ stripe, catalog, customers, subscriptions, urls, clock }: CheckoutDeps) {
  async function start(user: BillingUser, priceId: string) {
    const price = await catalog.findPrice(priceId);
    if (!price?.active || !price.product.active)
      throw Problems.priceNotFound(`no active price ${priceId}; see GET /api/v1/products`);
    if (!price.interval) throw Problems.priceNotRecurring(`${priceId} is a one-time price`);
    const live = await subscriptions.findLive(user.id);
    if (live) {
      const status = live.status.replaceAll('_', ' ');
      throw Problems.subscriptionExists(
        `you already have ${/^[aeiou]/.test(status) ? 'an' : 'a'} ${status} subscription; change plan with PUT /api/v1/subscription`,
      );
    }
    const customer = await customers.ensureCustomer(user);
    const window = Math.floor(clock.now().getTime() / IDEMPOTENCY_WINDOW_MS);
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'subscription',
        customer: customer.id,
        client_reference_id: user.id,
        line_items: [{ price: priceId, quantity: 1 }],
        metadata: { userId: user.id },
        subscription_data: { metadata: { userId: user.id } },
        success_url: urls.success,
        cancel_url: urls.cancel,
      },
      { idempotencyKey: `tollgate-checkout-${user.id}-${priceId}-${window}` },
    );
    return { checkout_session_id: session.id, checkout_session_url: session.url as string };
  }

  /** What the success page shows. */
  async function describeSession(sessionId: string) {
    try {
      const session = await stripe.checkout.sessions.retrieve(sessionId, {
        expand: ['line_items', 'subscription'],
      });
      const priceId = session.line_items?.data?.[0]?.price?.id ?? null;
      const price = priceId ? await catalog.findPrice(priceId) : null;
      const subscription =
        session.subscription && typeof session.subscription === 'object' ? session.subscription : null;
      return {
        id: session.id,
        status: session.status,
        paymentStatus: session.payment_status,
        planName: price?.product.name ?? session.line_items?.data?.[0]?.description ?? null,
        role: price?.product.role ?? null,
        amount: price?.unitAmount ?? session.amount_total ?? null,
        currency: price?.currency ?? session.currency ?? null,
        interval: price?.interval ?? null,
        subscriptionStatus: subscription?.status ?? null,
      };
    } catch (error) {
      if (isResourceMissing(error))
        throw Problems.checkoutSessionNotFound(`no checkout session ${sessionId}`);
      throw error;
    }
  }

  return { start, describeSession };
}

export type Checkout = ReturnType<typeof createCheckout>;
