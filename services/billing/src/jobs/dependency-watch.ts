/**
 * Probes Stripe and auth every DEPENDENCY_PROBE_SECONDS and, when one comes
 * back (or is first seen healthy), re-drives the work its outage held up:
 *  - Stripe: dead webhook events go back in line (capped per event, with a
 *    warning for those left dead), and a catch-up over Stripe's event list is
 *    queued for webhooks Stripe gave up on;
 *  - auth: role syncs sitting in backoff run now, so grants land within a
 *    probe interval of auth's return rather than a backoff step later.
 * While Stripe stays healthy, dead events are re-driven on the catch-up
 * cadence too (STRIPE_CATCHUP_SECONDS): they may have died of something the
 * probe cannot see, such as the database dropping connections. Every step only
 * logs when it fails: a probe never takes the process down.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Billing } from '../context.js';
import { QUEUES } from '../queue/queue.js';

type Health = 'unknown' | 'up' | 'down';

export interface DependencyWatch {
  stop(): void;
  /** The last probe's verdict per dependency (health route). */
  state(): { stripe: Health; auth: Health };
}

export function startDependencyWatch(billing: Billing, log: FastifyBaseLogger): DependencyWatch {
  const { config, stripe, inbox, roleSyncAdmin, boss } = billing;
  const w = config.worker;
  const probeMs = Math.max(500, w.probeSeconds * 1000);
  const timeoutMs = Math.min(2000, probeMs);
  const health: { stripe: Health; auth: Health } = { stripe: 'unknown', auth: 'unknown' };
  let lastRedrive = 0;
  let lastExhausted = 0;

  async function probeStripe(): Promise<boolean> {
    try {
      await stripe.events.list({ limit: 1 }, { maxNetworkRetries: 0, timeout: timeoutMs });
      return true;
    } catch (error) {
      // A 4xx answer is Stripe up and refusing us (e.g. a revoked key): nothing to re-drive for.
      const status = (error as { statusCode?: number }).statusCode;
      return status !== undefined && status < 500 && status !== 429;
    }
  }

  async function probeAuth(): Promise<boolean> {
    try {
      const response = await fetch(`${config.auth.url}/health/ready`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  async function redrive(reason: string) {
    lastRedrive = Date.now();
    const { redriven, exhausted } = await inbox.redriveDead(w.webhookRedriveLimit);
    if (redriven > 0) log.warn({ events: redriven, reason }, 'dead webhook events re-driven');
    if (exhausted > 0 && exhausted !== lastExhausted)
      log.warn(
        { events: exhausted, limit: w.webhookRedriveLimit },
        'webhook events still dead after every automatic re-drive: an admin must look (replay-webhook)',
      );
    lastExhausted = exhausted;
  }

  async function onStripe(up: boolean) {
    const before = health.stripe;
    if (!up) {
      if (before !== 'down') log.warn('Stripe unreachable: webhook processing will retry');
      health.stripe = 'down';
      return;
    }
    if (before !== 'up') {
      if (before === 'down') log.info('Stripe reachable again');
      await redrive(before === 'down' ? 'stripe back' : 'start');
      if (w.catchupSeconds > 0) await boss.send(QUEUES.stripeCatchup, {}, { singletonKey: 'catchup' });
      // Only now: a re-drive that failed is tried again at the next probe.
      health.stripe = 'up';
    } else if (Date.now() - lastRedrive > (w.catchupSeconds || 60) * 1000) {
      await redrive('periodic');
    }
  }

  async function onAuth(up: boolean) {
    const before = health.auth;
    if (!up) {
      if (before !== 'down') log.warn('auth unreachable: role syncs will retry');
      health.auth = 'down';
      return;
    }
    if (before === 'up') return;
    const moved = await roleSyncAdmin.retryNow();
    if (before === 'down' || moved > 0)
      log.info({ roleSyncs: moved }, 'auth reachable: role syncs retried now');
    health.auth = 'up';
  }

  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const [stripeUp, authUp] = await Promise.all([probeStripe(), probeAuth()]);
      await onStripe(stripeUp).catch((error) =>
        log.warn({ err: error }, 're-drive after Stripe probe failed'),
      );
      await onAuth(authUp).catch((error) => log.warn({ err: error }, 're-drive after auth probe failed'));
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), probeMs);
  timer.unref();
  void tick();

  return {
    stop: () => clearInterval(timer),
    state: () => ({ ...health }),
  };
}
