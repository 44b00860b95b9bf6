/**
 * What the passing of time does: renewals, scheduled cancellations, renewal
 * invoices finalized and charged an hour after they open, payment retries,
 * expiry of incomplete subscriptions and of open checkout sessions. Work is
 * done in time order, each step at its own timestamp, so advancing a year
 * produces twelve renewals with the right dates.
 */
import { expireCheckoutSession } from '../checkout/sessions.js';
import { AUTOMATIC, type Emulator } from '../core/emulator.js';
import {
  chargeRenewal,
  endScheduledCancel,
  expireIncomplete,
  finalizeAndCharge,
  renewSubscription,
} from '../subscriptions/lifecycle.js';
import { INCOMPLETE_EXPIRY_SECONDS, periodOf } from '../subscriptions/periods.js';
import { sendTrialWillEnd, trialNoticeAt } from '../subscriptions/trials.js';

interface Action {
  at: number;
  priority: number;
  run: (at: number) => void;
}

const LIVE = ['active', 'past_due', 'trialing'];
const MAX_STEPS = 100_000;

function clockId(value: unknown): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : (value as { id: string }).id;
}

function nextAction(em: Emulator, clock: string | null, until: number): Action | undefined {
  let best: Action | undefined;
  const consider = (a: Action) => {
    if (a.at > until) return;
    if (!best || a.at < best.at || (a.at === best.at && a.priority < best.priority)) best = a;
  };
  for (const sub of em.store.subscriptions.items.values()) {
    if (clockId(sub.test_clock) !== clock) continue;
    if (LIVE.includes(sub.status)) {
      const { end } = periodOf(sub);
      const notice = trialNoticeAt(em, sub);
      if (notice !== null) {
        consider({ at: notice, priority: 0, run: (at) => sendTrialWillEnd(em, sub, at) });
      }
      if (sub.cancel_at !== null && sub.cancel_at <= end) {
        consider({ at: sub.cancel_at, priority: 0, run: () => endScheduledCancel(em, sub) });
      } else {
        consider({ at: end, priority: 1, run: () => renewSubscription(em, sub) });
      }
    } else if (sub.status === 'incomplete') {
      consider({
        at: sub.created + INCOMPLETE_EXPIRY_SECONDS,
        priority: 5,
        run: (at) => expireIncomplete(em, sub, at),
      });
    }
  }
  for (const invoice of em.store.invoices.items.values()) {
    if (clockId(invoice.test_clock) !== clock) continue;
    if (invoice.status === 'draft' && invoice.automatically_finalizes_at !== null) {
      consider({
        at: invoice.automatically_finalizes_at,
        priority: 2,
        run: (at) => finalizeAndCharge(em, invoice, at),
      });
    } else if (
      invoice.status === 'open' &&
      invoice.next_payment_attempt !== null &&
      invoice.auto_advance !== false
    ) {
      consider({
        at: invoice.next_payment_attempt,
        priority: 3,
        run: (at) => chargeRenewal(em, invoice, at),
      });
    }
  }
  for (const record of em.store.checkoutSessions.items.values()) {
    const s = record.session;
    if (s.status !== 'open') continue;
    const customer = s.customer ? em.store.customers.get(String(s.customer)) : undefined;
    if (clockId(customer?.test_clock) !== clock) continue;
    consider({ at: s.expires_at, priority: 4, run: (at) => expireCheckoutSession(em, s.id, AUTOMATIC, at) });
  }
  return best;
}

/** Runs everything due up to `until` for objects on `clock` (null: objects on no test clock). */
export function runUntil(em: Emulator, clock: string | null, until: number): number {
  let steps = 0;
  for (; steps < MAX_STEPS; steps++) {
    const action = nextAction(em, clock, until);
    if (!action) break;
    if (clock) {
      const tc = em.store.testClocks.get(clock);
      if (tc) tc.frozen_time = Math.max(tc.frozen_time, action.at);
    }
    action.run(action.at);
  }
  if (steps > 0) em.changed();
  return steps;
}

/** `POST /_emulator/advance-time`: moves the emulator's clock and every test clock forward. */
export function advanceTime(em: Emulator, seconds: number): { now: number; steps: number } {
  em.store.clockOffset += seconds;
  let steps = runUntil(em, null, em.now());
  for (const clock of em.store.testClocks.items.values()) {
    const target = clock.frozen_time + seconds;
    steps += runUntil(em, clock.id, target);
    clock.frozen_time = target;
  }
  em.changed();
  return { now: em.now(), steps };
}
