/**
 * Subscription Schedules, the part a "change at period end" needs: a schedule
 * made `from_subscription` (one phase: the current period at the current
 * price), its `phases` replaced by an update (e.g. the current phase, then a
 * cheaper price from the period end), `release` (the subscription goes on
 * alone) and `cancel`. Time applies the phases: at a renewal that starts a
 * phase, the items take that phase's prices before the renewal invoice is
 * made; when the last phase ends, `end_behavior` (release or cancel) applies.
 */
import type Stripe from 'stripe';
import type { Emulator, RequestInfo } from '../core/emulator.js';
import { invalidParam, invalidRequest, missingParam } from '../core/errors.js';
import { paginate } from '../core/list.js';
import { Params } from '../core/params.js';
import { requirePrice } from '../products-prices/catalogue.js';
import { cancelSubscriptionNow } from '../subscriptions/cancel.js';
import { ENDED, nextBoundary, periodOf } from '../subscriptions/periods.js';
import { planFor } from '../subscriptions/update-items.js';
import { buildPhase, buildSchedule } from './objects.js';

const PRORATION = ['create_prorations', 'none', 'always_invoice'] as const;

/** `at` plus `count` intervals, by the calendar (a month from Jan 31 is the end of February, as Stripe bills). */
function addInterval(at: number, interval: 'day' | 'week' | 'month' | 'year', count: number): number {
  if (interval === 'day' || interval === 'week') return at + count * (interval === 'day' ? 1 : 7) * 86400;
  const d = new Date(at * 1000);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + (interval === 'year' ? 12 * count : count));
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return Math.floor(d.getTime() / 1000);
}

function subscriptionIdOf(s: Stripe.SubscriptionSchedule): string | null {
  const sub = s.subscription;
  return sub ? (typeof sub === 'string' ? sub : sub.id) : null;
}

function customerOf(sub: Stripe.Subscription): string {
  return typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
}

export function createSchedule(em: Emulator, p: Params, req: RequestInfo): Stripe.SubscriptionSchedule {
  const params = new Params(p.raw, ['from_subscription', 'metadata', 'customer', 'phases', 'end_behavior']);
  const subId = params.string('from_subscription');
  if (!subId) {
    throw invalidRequest(
      'The emulator creates schedules only with `from_subscription`.',
      'from_subscription',
    );
  }
  if (params.has('phases'))
    throw invalidRequest('You cannot set `phases` if `from_subscription` is set.', 'phases');
  const sub = em.store.subscriptions.require(subId, 'from_subscription');
  if (ENDED.includes(sub.status))
    throw invalidRequest(`The subscription ${sub.id} has ended.`, 'from_subscription');
  if (sub.schedule) {
    throw invalidRequest(
      `You cannot migrate a subscription that is already attached to a schedule: \`${String(sub.schedule)}\`.`,
      'from_subscription',
    );
  }
  const at = em.timeOf(sub.test_clock);
  const { start, end } = periodOf(sub);
  const schedule = buildSchedule({
    created: at,
    customer: customerOf(sub),
    subscription: sub.id,
    testClock: sub.test_clock ? String(sub.test_clock) : null,
    phases: [
      buildPhase({
        start,
        end,
        items: sub.items.data.map((i) => ({ price: i.price, quantity: i.quantity ?? 1 })),
        prorationBehavior: 'create_prorations',
        metadata: {},
      }),
    ],
  });
  schedule.metadata = params.metadata({}) ?? {};
  em.store.subscriptionSchedules.put(schedule);
  const before = structuredClone(sub);
  sub.schedule = schedule.id;
  em.emit('subscription_schedule.created', schedule, { request: req, at });
  em.emit('customer.subscription.updated', sub, { previous: before, request: req, at });
  return schedule;
}

function requireActive(em: Emulator, id: string): Stripe.SubscriptionSchedule {
  const schedule = em.store.subscriptionSchedules.require(id);
  if (schedule.status !== 'active' && schedule.status !== 'not_started') {
    throw invalidRequest(
      `You cannot update a subscription schedule that is currently in the \`${schedule.status}\` status.`,
      undefined,
      'subscription_schedule_invalid_status',
    );
  }
  return schedule;
}

/** `phases[i]`: items with prices, `start_date` (the first must stay the current phase's), `end_date` or `iterations`. */
function readPhases(em: Emulator, raw: unknown[], currentStart: number): Stripe.SubscriptionSchedule.Phase[] {
  const phases: Stripe.SubscriptionSchedule.Phase[] = [];
  let previousEnd: number | null = null;
  raw.forEach((value, i) => {
    const name = `phases[${i}]`;
    const pp = new Params(
      value,
      ['items', 'start_date', 'end_date', 'iterations', 'duration', 'proration_behavior', 'metadata'],
      name,
    );
    const itemsRaw = pp.array('items');
    if (!itemsRaw || itemsRaw.length === 0) throw missingParam(`${name}[items]`);
    const items = itemsRaw.map((item, j) => {
      const ip = new Params(item, ['price', 'quantity', 'metadata'], `${name}[items][${j}]`);
      const priceId = ip.string('price');
      if (!priceId) throw missingParam(`${name}[items][${j}][price]`);
      return {
        price: requirePrice(em, priceId, `${name}[items][${j}][price]`),
        quantity: ip.integer('quantity') ?? 1,
      };
    });
    const start = i === 0 ? (pp.integer('start_date') ?? currentStart) : (previousEnd ?? currentStart);
    if (i === 0 && start !== currentStart) {
      throw invalidParam(`${name}[start_date]`, 'You can not modify the start date of the current phase.');
    }
    let end = pp.integer('end_date');
    const iterations = pp.integer('iterations');
    const duration = pp.object('duration', ['interval', 'interval_count']);
    if (end === undefined && duration) {
      const interval = duration.oneOf('interval', ['day', 'week', 'month', 'year'] as const);
      if (!interval) throw missingParam(`${name}[duration][interval]`);
      const count = duration.integer('interval_count') ?? 1;
      end = addInterval(start, interval, count);
    } else if (end === undefined) {
      // `iterations` (older API versions): whole billing periods of the phase's first price.
      const price = items[0]?.price as Stripe.Price;
      end = start;
      for (let n = 0; n < (iterations ?? 1); n++) end = nextBoundary(start, price, end);
    }
    if (end <= start) throw invalidParam(`${name}[end_date]`, 'The end date must be after the start date.');
    previousEnd = end;
    phases.push(
      buildPhase({
        start,
        end,
        items,
        prorationBehavior: pp.oneOf(`proration_behavior`, PRORATION) ?? 'create_prorations',
        metadata: pp.metadata({}) ?? {},
      }),
    );
  });
  return phases;
}

export function updateSchedule(
  em: Emulator,
  id: string,
  p: Params,
  req: RequestInfo,
): Stripe.SubscriptionSchedule {
  const params = new Params(p.raw, ['phases', 'end_behavior', 'metadata', 'proration_behavior']);
  const schedule = requireActive(em, id);
  const before = structuredClone(schedule);
  const at = em.timeOf(schedule.test_clock);
  const phasesRaw = params.array('phases');
  if (phasesRaw) {
    const currentStart = schedule.current_phase?.start_date ?? schedule.phases[0]?.start_date ?? at;
    schedule.phases = readPhases(em, phasesRaw, currentStart);
    const first = schedule.phases[0];
    schedule.current_phase = first ? { start_date: first.start_date, end_date: first.end_date } : null;
  }
  const endBehavior = params.oneOf('end_behavior', ['release', 'cancel'] as const);
  if (endBehavior) schedule.end_behavior = endBehavior;
  const metadata = params.metadata(schedule.metadata ?? {});
  if (metadata) schedule.metadata = metadata;
  em.emit('subscription_schedule.updated', schedule, { previous: before, request: req, at });
  return schedule;
}

/** Detaches the schedule: the subscription goes on as it is, with no more phases. */
export function releaseSchedule(em: Emulator, id: string, req: RequestInfo): Stripe.SubscriptionSchedule {
  const schedule = requireActive(em, id);
  const subId = subscriptionIdOf(schedule);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  const at = em.timeOf(schedule.test_clock);
  schedule.status = 'released';
  schedule.released_at = at;
  schedule.released_subscription = subId;
  schedule.subscription = null;
  schedule.current_phase = null;
  em.emit('subscription_schedule.released', schedule, { request: req, at });
  if (sub) {
    const before = structuredClone(sub);
    sub.schedule = null;
    em.emit('customer.subscription.updated', sub, { previous: before, request: req, at });
  }
  return schedule;
}

export function cancelSchedule(em: Emulator, id: string, req: RequestInfo): Stripe.SubscriptionSchedule {
  const schedule = requireActive(em, id);
  const subId = subscriptionIdOf(schedule);
  const sub = subId ? em.store.subscriptions.get(subId) : undefined;
  const at = em.timeOf(schedule.test_clock);
  schedule.status = 'canceled';
  schedule.canceled_at = at;
  schedule.current_phase = null;
  em.emit('subscription_schedule.canceled', schedule, { request: req, at });
  if (sub && !ENDED.includes(sub.status)) cancelSubscriptionNow(em, sub, req, 'cancellation_requested', at);
  return schedule;
}

export function listSchedules(em: Emulator, p: Params): Stripe.ApiList<Stripe.SubscriptionSchedule> {
  const customer = p.string('customer');
  const items = em.store.subscriptionSchedules
    .newestFirst()
    .filter((s) => customer === undefined || s.customer === customer);
  return paginate(items, p, '/v1/subscription_schedules', 'subscription_schedule');
}

/**
 * Called by a renewal at `boundary` (the old period's end), before the items
 * roll: a phase that starts here gives the items its prices; a last phase that
 * ends here releases the schedule or cancels the subscription.
 * Returns true when the subscription was canceled (no renewal follows).
 */
export function applySchedulePhase(em: Emulator, sub: Stripe.Subscription, boundary: number): boolean {
  if (!sub.schedule) return false;
  const schedule = em.store.subscriptionSchedules.get(String(sub.schedule));
  if (schedule?.status !== 'active') return false;
  const next = schedule.phases.find((ph) => ph.start_date === boundary);
  if (next) {
    const before = structuredClone(schedule);
    const oldInterval = sub.items.data[0]?.price.recurring?.interval;
    next.items.forEach((phaseItem, i) => {
      const item = sub.items.data[i];
      const price = em.store.prices.get(String(phaseItem.price));
      if (!item || !price) return;
      item.price = price;
      item.plan = planFor(price);
      item.quantity = phaseItem.quantity ?? 1;
    });
    // A phase with another interval starts its own cycle at the boundary.
    if (sub.items.data[0]?.price.recurring?.interval !== oldInterval) sub.billing_cycle_anchor = boundary;
    schedule.current_phase = { start_date: next.start_date, end_date: next.end_date };
    em.emit('subscription_schedule.updated', schedule, { previous: before, at: boundary });
    return false;
  }
  const last = schedule.phases[schedule.phases.length - 1];
  if (!last || last.end_date !== boundary) return false;
  if (schedule.end_behavior === 'cancel') {
    cancelSchedule(em, schedule.id, { id: null, idempotencyKey: null });
    return true;
  }
  releaseSchedule(em, schedule.id, { id: null, idempotencyKey: null });
  return false;
}
