/**
 * Shares runs of a re-fetch ("read Stripe, apply what it says") between the
 * callers one run serves. A sync promises only this: the state applied was
 * read after the reason to sync arose. So a caller is served by
 *
 * - a run that has not begun its read yet (it joins it), and, when the
 *   caller says since when it needs a read (`notBefore`: an event's receipt;
 *   Stripe made the change before it sent the event),
 * - a run whose read began after that moment, still running (it joins it),
 * - or the last successful run's result, if its read began after that moment
 *   (nothing is run at all).
 *
 * Any other call starts its own run at once, so nobody waits for a slow read
 * that began before it (slow-stripe.test.ts). A failed run fails the calls
 * it carried (their jobs are retried) and is never reused. Only the `arg` (the
 * cause) of the call that started a run is recorded with a change it makes.
 *
 * A payment sends six events that sync the same subscription
 * (customer.subscription.created, invoice.created/finalized/paid/
 * payment_succeeded, checkout.session.completed) within moments; with this,
 * most are served by one read (ADR 0015). Times are this process's
 * monotonic clock (`performance.now()`); the event runner turns an event's
 * receipt into it (event-runner.ts).
 */
export interface SharedRunOptions<R> {
  /** Whether a finished run's result may serve later calls (e.g. not when it found no user to map). */
  reusable?: (result: R) => boolean;
  /** How many keys' last results to remember (the oldest are forgotten first). */
  remember?: number;
  /** The clock read times are taken from (ms, monotonic). */
  now?: () => number;
}

/** A run in flight; `readAt` once it has begun its read. */
interface Run<R> {
  promise: Promise<R>;
  readAt?: number;
}

/** A margin for the rounding of the times compared. */
const MARGIN_MS = 1;

export function coalesceByKey<A, R>(
  run: (key: string, arg: A | undefined, reading: () => void) => Promise<R>,
  { reusable = () => true, remember = 10_000, now = () => performance.now() }: SharedRunOptions<R> = {},
) {
  /** Per key: the runs in flight (at most one of them not reading yet). */
  const inFlight = new Map<string, Set<Run<R>>>();
  /** Per key: the last successful run's read time and result. */
  const done = new Map<string, { readAt: number; result: R }>();

  const covers = (readAt: number, notBefore: number) => readAt > notBefore + MARGIN_MS;

  function remembered(key: string, readAt: number, result: R) {
    const last = done.get(key);
    if (last && last.readAt >= readAt) return;
    done.delete(key); // re-inserted last: the Map's order is the forgetting order
    done.set(key, { readAt, result });
    if (done.size > remember) done.delete(done.keys().next().value as string);
  }

  return (key: string, arg?: A, notBefore?: number): Promise<R> => {
    const runs = inFlight.get(key) ?? new Set<Run<R>>();
    if (notBefore !== undefined) {
      const last = done.get(key);
      if (last && covers(last.readAt, notBefore)) return Promise.resolve(last.result);
      for (const r of runs) if (r.readAt !== undefined && covers(r.readAt, notBefore)) return r.promise;
    }
    for (const r of runs) if (r.readAt === undefined) return r.promise;

    // `reading` may be called before `run` returns (a run that reads at once): it only stamps the entry.
    const entry = {} as Run<R>;
    entry.promise = run(key, arg, () => {
      entry.readAt ??= now();
    });
    runs.add(entry);
    inFlight.set(key, runs);
    const settled = () => {
      runs.delete(entry);
      if (runs.size === 0 && inFlight.get(key) === runs) inFlight.delete(key);
    };
    entry.promise.then((result) => {
      settled();
      if (entry.readAt !== undefined && reusable(result)) remembered(key, entry.readAt, result);
    }, settled);
    return entry.promise;
  };
}
