/**
 * `/v1/subscription_items`: each change goes through the subscription update
 * (`items[...]`), so prorations, invoices and `customer.subscription.updated`
 * are exactly what updating the subscription would give.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { missingParam, resourceMissing } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { Params } from '../core/params.js';
import { updateSubscription } from './update.js';

const WRITE = ['price', 'quantity', 'metadata', 'proration_behavior', 'proration_date', 'payment_behavior'];

function findItem(em: Emulator, id: string): { sub: Stripe.Subscription; item: Stripe.SubscriptionItem } {
  for (const sub of em.store.subscriptions.items.values()) {
    const item = sub.items.data.find((x) => x.id === id);
    if (item) return { sub, item };
  }
  throw resourceMissing('subscription_item', id);
}

/** Splits item fields from the subscription-level ones that ride along (`proration_behavior`, ...). */
function asUpdate(params: Params, item: Record<string, unknown>): Params {
  const raw: Record<string, unknown> = { items: [item] };
  for (const key of ['proration_behavior', 'proration_date', 'payment_behavior']) {
    if (params.has(key)) raw[key] = params.raw[key];
  }
  return new Params(raw);
}

function itemFields(params: Params): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const key of ['price', 'quantity', 'metadata']) if (params.has(key)) item[key] = params.raw[key];
  return item;
}

export function createSubscriptionItem(em: Emulator, p: Params, req: RequestInfo): Stripe.SubscriptionItem {
  const params = new Params(p.raw, ['subscription', ...WRITE]);
  const subId = params.requiredString('subscription');
  if (!params.has('price')) throw missingParam('price');
  const before = new Set(em.store.subscriptions.require(subId, 'subscription').items.data.map((i) => i.id));
  const sub = updateSubscription(em, subId, asUpdate(params, itemFields(params)), req);
  const created = sub.items.data.find((i) => !before.has(i.id));
  if (!created) throw resourceMissing('subscription_item', 'new');
  return created;
}

export function retrieveSubscriptionItem(em: Emulator, id: string): Stripe.SubscriptionItem {
  return findItem(em, id).item;
}

export function updateSubscriptionItem(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.SubscriptionItem {
  const params = new Params(p.raw, [...WRITE, 'off_session']);
  const { sub } = findItem(em, id);
  updateSubscription(em, sub.id, asUpdate(params, { id, ...itemFields(params) }), req);
  return findItem(em, id).item;
}

export function deleteSubscriptionItem(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.DeletedSubscriptionItem {
  const params = new Params(p.raw, ['proration_behavior', 'proration_date', 'clear_usage']);
  const { sub } = findItem(em, id);
  updateSubscription(em, sub.id, asUpdate(params, { id, deleted: 'true' }), req);
  return { id, object: 'subscription_item', deleted: true };
}

export function listSubscriptionItems(em: Emulator, p: Params): Stripe.ApiList<Stripe.SubscriptionItem> {
  const sub = em.store.subscriptions.require(p.requiredString('subscription'), 'subscription');
  return paginate(
    [...sub.items.data].reverse(),
    p,
    `/v1/subscription_items?subscription=${sub.id}`,
    'subscription_item',
  );
}
