/** Test clocks: customers created on a clock live in its frozen time until it is advanced. */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { paginate } from '../core/list.js';
import { Params } from '../core/params.js';
import { runUntil } from './scheduler.js';

const THIRTY_DAYS = 30 * 86400;

export function createTestClock(em: Emulator, p: Params, req: RequestInfo): Stripe.TestHelpers.TestClock {
  const params = new Params(p.raw, ['frozen_time', 'name']);
  const frozen = params.integer('frozen_time');
  if (frozen === undefined)
    throw invalidRequest('Missing required param: frozen_time.', 'frozen_time', 'parameter_missing');
  const created = em.now();
  const clock: Stripe.TestHelpers.TestClock = {
    id: newId('clock'),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + THIRTY_DAYS,
    frozen_time: frozen,
    livemode: false,
    name: params.nullableString('name') ?? null,
    status: 'ready',
    status_details: {},
  };
  em.store.testClocks.put(clock);
  em.emit('test_helpers.test_clock.created', clock, { request: req });
  return clock;
}

export function retrieveTestClock(em: Emulator, id: string): Stripe.TestHelpers.TestClock {
  return em.store.testClocks.require(id);
}

export function listTestClocks(em: Emulator, p: Params): Stripe.ApiList<Stripe.TestHelpers.TestClock> {
  return paginate(em.store.testClocks.newestFirst(), p, '/v1/test_helpers/test_clocks', 'test_clock');
}

export function deleteTestClock(
  em: Emulator,
  id: string,
  req: RequestInfo,
): Stripe.TestHelpers.DeletedTestClock {
  const clock = em.store.testClocks.require(id);
  // Deleting a clock deletes the customers on it and everything of theirs.
  for (const customer of [...em.store.customers.items.values()]) {
    if (customer.test_clock !== id) continue;
    em.store.customers.delete(customer.id);
    em.store.deletedCustomers.add(customer.id);
  }
  for (const sub of [...em.store.subscriptions.items.values()])
    if (sub.test_clock === id) em.store.subscriptions.delete(sub.id);
  em.store.testClocks.delete(id);
  em.emit('test_helpers.test_clock.deleted', clock, { request: req });
  return { id, object: 'test_helpers.test_clock', deleted: true };
}

/**
 * Advances the clock and runs everything due on its objects. Stripe answers
 * with the clock `advancing` and finishes in the background; the emulator has
 * finished by the time it answers, so a retrieve right after shows `ready`.
 */
export function advanceTestClock(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.TestHelpers.TestClock {
  const params = new Params(p.raw, ['frozen_time']);
  const clock = em.store.testClocks.require(id);
  const target = params.integer('frozen_time');
  if (target === undefined)
    throw invalidRequest('Missing required param: frozen_time.', 'frozen_time', 'parameter_missing');
  if (target <= clock.frozen_time) {
    throw invalidRequest(
      `The test clock can only be advanced to a time after its current frozen time (${clock.frozen_time}).`,
      'frozen_time',
    );
  }
  clock.status = 'advancing';
  const response = structuredClone(clock);
  response.status_details = { advancing: { target_frozen_time: target } };
  em.emit('test_helpers.test_clock.advancing', response, { request: req });
  runUntil(em, id, target);
  clock.frozen_time = target;
  clock.status = 'ready';
  em.emit('test_helpers.test_clock.ready', clock, { at: target });
  return response;
}
