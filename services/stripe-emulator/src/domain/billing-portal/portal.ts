/**
 * Customer portal sessions. The URL is an emulator page listing the
 * customer's subscriptions with cancel and resume buttons. Cancelling there
 * behaves as the portal does for flexible billing mode: `cancel_at` = the
 * period end, `cancel_at_period_end` stays false.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import { newId, randomToken } from '../core/ids.js';
import { Params } from '../core/params.js';
import { periodOf } from '../subscriptions/periods.js';

export const DEFAULT_PORTAL_CONFIGURATION = 'bpc_tollgate_default';

export function createPortalSession(em: Emulator, p: Params, req: RequestInfo): Stripe.BillingPortal.Session {
  const params = new Params(p.raw, [
    'customer',
    'return_url',
    'configuration',
    'locale',
    'flow_data',
    'on_behalf_of',
  ]);
  const customer = em.store.customers.require(params.requiredString('customer'), 'customer');
  const id = newId('bps');
  const session: Stripe.BillingPortal.Session = {
    id,
    object: 'billing_portal.session',
    configuration: params.string('configuration') ?? DEFAULT_PORTAL_CONFIGURATION,
    created: em.timeOf(customer.test_clock),
    customer: customer.id,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: params.string('return_url') ?? null,
    url: `${em.publicUrl}/p/session/${id}_${randomToken(16)}`,
  };
  em.store.portalSessions.put(session);
  em.emit('billing_portal.session.created', session, { request: req, at: session.created });
  return session;
}

export function portalSessionFromToken(
  em: Emulator,
  token: string,
): Stripe.BillingPortal.Session | undefined {
  for (const s of em.store.portalSessions.items.values()) if (s.url.endsWith(`/p/session/${token}`)) return s;
  return undefined;
}

/** A portal action: cancel at period end, or resume (undo a scheduled cancel). */
export function portalAction(
  em: Emulator,
  session: Stripe.BillingPortal.Session,
  subscriptionId: string,
  action: 'cancel' | 'resume',
): Stripe.Subscription {
  const sub = em.store.subscriptions.get(subscriptionId);
  if (!sub || sub.customer !== session.customer)
    throw invalidRequest('No such subscription for this customer.');
  const before = structuredClone(sub);
  const at = em.timeOf(sub.test_clock);
  // Portal actions are made by the customer in the browser, not by an API call of yours.
  const req: RequestInfo = { id: null, idempotencyKey: null };
  if (action === 'cancel') {
    if (sub.cancel_at !== null || !['active', 'trialing', 'past_due'].includes(sub.status)) return sub;
    sub.cancel_at = periodOf(sub).end;
    sub.canceled_at = at;
    sub.cancellation_details = {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: 'cancellation_requested',
    };
  } else {
    if (sub.cancel_at === null && !sub.cancel_at_period_end) return sub;
    sub.cancel_at = null;
    sub.cancel_at_period_end = false;
    sub.canceled_at = null;
    sub.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: null };
  }
  em.emit('customer.subscription.updated', sub, { previous: before, request: req, at });
  return sub;
}
