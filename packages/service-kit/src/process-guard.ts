/**
 * Background work (timers, queue handlers, fire-and-forget promises) may
 * fail a job, never the process. A throw in a timer callback or a rejected
 * promise nobody awaited would otherwise end the whole service (and under
 * `npm start`, every service in that process): one malformed webhook did.
 *
 * Two layers: `runGuarded` / `guardedTimer` for the background work we start
 * ourselves (the error is logged where it happened), and `installProcessGuard`
 * as the last line for whatever still escapes: it logs the error and keeps
 * serving. Requests are unaffected: Fastify already turns a handler's error
 * into that request's 500.
 */

export interface GuardLogger {
  error(details: Record<string, unknown>, message: string): void;
}

/** The process events the guard takes over (close-with-grace must `skip` them, or it exits on them). */
export const GUARDED_PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

export interface ProcessGuardOptions {
  /** Called after logging, e.g. to count escapes in metrics. */
  onEscape?: (error: unknown, origin: string) => void;
}

/**
 * Logs uncaught exceptions and unhandled rejections instead of letting Node
 * end the process. Returns a function that removes the handlers again.
 */
export function installProcessGuard(log: GuardLogger, options: ProcessGuardOptions = {}): () => void {
  const onException = (error: unknown, origin: string) => {
    log.error({ err: error, origin }, 'uncaught exception in background work; the process keeps running');
    options.onEscape?.(error, origin);
  };
  const onRejection = (reason: unknown) => {
    log.error({ err: reason }, 'unhandled promise rejection in background work; the process keeps running');
    options.onEscape?.(reason, 'unhandledRejection');
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.removeListener('uncaughtException', onException);
    process.removeListener('unhandledRejection', onRejection);
  };
}

/** Runs background work; an error (thrown or rejected) is logged under `name`, never rethrown. */
export async function runGuarded(log: GuardLogger, name: string, work: () => unknown): Promise<void> {
  try {
    await work();
  } catch (error) {
    log.error({ err: error, task: name }, `${name} failed`);
  }
}

/** setInterval for background work: errors are logged, the timer keeps running, it never holds the process open. */
export function guardedTimer(
  log: GuardLogger,
  name: string,
  everyMs: number,
  work: () => unknown,
): NodeJS.Timeout {
  const timer = setInterval(() => void runGuarded(log, name, work), everyMs);
  timer.unref();
  return timer;
}
