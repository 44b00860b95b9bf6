/** Retrieve and list subscriptions. */
import type Stripe from 'stripe';
import type { Emulator } from '../core/emulator.js';
import { paginate } from '../core/list.js';
import { matchesRange, type Params } from '../core/params.js';
import { readPath, searchResult } from '../core/search.js';
import { ENDED } from './periods.js';

export function retrieveSubscription(em: Emulator, id: string): Stripe.Subscription {
  return em.store.subscriptions.require(id);
}

export function listSubscriptions(em: Emulator, p: Params): Stripe.ApiList<Stripe.Subscription> {
  const customer = p.string('customer');
  const price = p.string('price');
  const status = p.string('status');
  const testClock = p.string('test_clock');
  const items = em.store.subscriptions
    .newestFirst()
    .filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.data.some((i) => i.price.id === price)) &&
        (testClock === undefined || s.test_clock === testClock) &&
        (status === 'all' || (status === undefined ? !ENDED.includes(s.status) : s.status === status)) &&
        matchesRange(p, 'created', s.created),
    );
  return paginate(items, p, '/v1/subscriptions', 'subscription');
}

export function searchSubscriptions(em: Emulator, p: Params): Stripe.ApiSearchResult<Stripe.Subscription> {
  return searchResult(
    em.store.subscriptions.newestFirst(),
    p,
    '/v1/subscriptions/search',
    ['created', 'status'],
    readPath,
  );
}
