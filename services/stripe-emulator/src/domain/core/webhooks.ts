/**
 * Webhook delivery: every event goes to every endpoint enabled for its type,
 * signed as Stripe signs (`Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.payload")`),
 * retried with exponential backoff on non-2xx or timeout, every attempt recorded.
 * Fault injection (duplicates, shuffled order, delay, failing first attempts)
 * lets tests check that a receiver copes with what Stripe does on a bad day.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type Stripe from 'stripe';
import { newId } from './ids.js';
import type { Delivery, Store } from './store.js';

export interface Faults {
  /** Share (0..1) of deliveries that are sent twice. */
  duplicate_rate: number;
  /** Deliver queued events in random order instead of creation order. */
  shuffle: boolean;
  /** Wait this long before each attempt. */
  delay_ms: number;
  /** The first N attempts of every delivery fail without reaching the endpoint. */
  fail_first_attempts: number;
}

export const NO_FAULTS: Faults = { duplicate_rate: 0, shuffle: false, delay_ms: 0, fail_first_attempts: 0 };

export interface DeliverySettings {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  concurrency: number;
}

export interface DispatcherLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export function signPayload(payload: string, secret: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export function endpointWants(endpoint: Stripe.WebhookEndpoint, type: string): boolean {
  return (
    endpoint.status === 'enabled' &&
    (endpoint.enabled_events.includes('*') || endpoint.enabled_events.includes(type))
  );
}

export class WebhookDispatcher {
  faults: Faults = { ...NO_FAULTS };
  private readonly queues = new Map<string, string[]>();
  private readonly inFlight = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private waiters: (() => void)[] = [];
  private closed = false;
  /**
   * Connections kept open between deliveries, as a sender would: node's http
   * client rather than fetch, whose web streams cost the emulator (which shares
   * the machine with what it tests) several times the CPU per delivery.
   */
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  /** Told each delivery attempt's result (the app counts them as metrics). */
  onAttempt: ((result: { ok: boolean; gaveUp: boolean; seconds: number }) => void) | undefined;

  constructor(
    private readonly store: Store,
    readonly settings: DeliverySettings,
    private readonly log: DispatcherLogger,
    private readonly random: () => number = Math.random,
  ) {}

  enqueue(event: Stripe.Event, endpointIds: string[]): void {
    for (const endpointId of endpointIds) {
      const record = this.store.webhookEndpoints.get(endpointId);
      if (!record) continue;
      const copies = this.random() < this.faults.duplicate_rate ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const delivery: Delivery = {
          id: newId('whd'),
          event_id: event.id,
          event_type: event.type,
          endpoint_id: endpointId,
          url: record.endpoint.url,
          status: 'pending',
          attempts: [],
          next_attempt_at: new Date().toISOString(),
          duplicate: i > 0,
        };
        this.store.deliveries.put(delivery);
        this.queue(endpointId).push(delivery.id);
      }
    }
    // Start after the current operation has emitted all its events, so a batch can be shuffled.
    setImmediate(() => {
      for (const endpointId of endpointIds) this.pump(endpointId);
    });
  }

  /**
   * Queues again the deliveries a saved state left pending (the emulator was
   * stopped before they succeeded or gave up), in creation order.
   */
  resume(): void {
    const endpoints = new Set<string>();
    for (const delivery of this.store.deliveries.items.values()) {
      if (delivery.status !== 'pending') continue;
      this.queue(delivery.endpoint_id).push(delivery.id);
      endpoints.add(delivery.endpoint_id);
    }
    setImmediate(() => {
      for (const endpointId of endpoints) this.pump(endpointId);
    });
  }

  /** Resolves when nothing is queued, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  isIdle(): boolean {
    if (this.timers.size > 0) return false;
    for (const n of this.inFlight.values()) if (n > 0) return false;
    for (const q of this.queues.values()) if (q.length > 0) return false;
    return true;
  }

  pendingCount(): number {
    let n = 0;
    for (const d of this.store.deliveries.items.values()) if (d.status === 'pending') n++;
    return n;
  }

  /** Forget queued work (used by reset); in-flight requests are aborted. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
    this.queues.clear();
    this.inFlight.clear();
    this.notifyIdle();
  }

  close(): void {
    this.closed = true;
    this.clear();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** POSTs `body`; resolves with the status once the answer was read (its body is ignored, as Stripe does). */
  private post(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const request = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          agent: secure ? this.agents.https : this.agents.http,
          signal,
        },
        (response) => {
          response.on('error', reject);
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.resume();
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  private queue(endpointId: string): string[] {
    let q = this.queues.get(endpointId);
    if (!q) {
      q = [];
      this.queues.set(endpointId, q);
    }
    return q;
  }

  private pump(endpointId: string): void {
    if (this.closed) return;
    const q = this.queue(endpointId);
    while (q.length > 0 && (this.inFlight.get(endpointId) ?? 0) < this.settings.concurrency) {
      const index = this.faults.shuffle ? Math.floor(this.random() * q.length) : 0;
      const [deliveryId] = q.splice(index, 1);
      if (!deliveryId) break;
      this.inFlight.set(endpointId, (this.inFlight.get(endpointId) ?? 0) + 1);
      void this.attempt(deliveryId).finally(() => {
        this.inFlight.set(endpointId, (this.inFlight.get(endpointId) ?? 1) - 1);
        this.pump(endpointId);
        this.notifyIdle();
      });
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.waiters.length === 0 || !this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async attempt(deliveryId: string): Promise<void> {
    const delivery = this.store.deliveries.get(deliveryId);
    if (delivery?.status !== 'pending') return;
    const record = this.store.webhookEndpoints.get(delivery.endpoint_id);
    const event = this.store.events.get(delivery.event_id);
    if (!record || !event) {
      delivery.status = 'failed';
      delivery.next_attempt_at = null;
      return;
    }
    if (this.faults.delay_ms > 0) await sleep(this.faults.delay_ms);
    if (this.closed) return;

    const started = Date.now();
    const injected = delivery.attempts.length < this.faults.fail_first_attempts;
    let status: number | null = null;
    let error: string | null = null;
    if (injected) {
      error = 'injected failure (fault injection): not sent';
    } else {
      // The signature's timestamp is wall-clock time: receivers check it against their own clock.
      const payload = JSON.stringify(event, null, 2);
      const controller = new AbortController();
      this.controllers.add(controller);
      const timer = setTimeout(() => controller.abort(), this.settings.timeoutMs);
      try {
        status = await this.post(
          record.endpoint.url,
          {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'stripe-signature': signPayload(payload, record.secret, Math.floor(Date.now() / 1000)),
          },
          payload,
          controller.signal,
        );
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (err) {
        error = controller.signal.aborted ? `timeout after ${this.settings.timeoutMs} ms` : String(err);
      } finally {
        clearTimeout(timer);
        this.controllers.delete(controller);
      }
    }
    if (this.closed || this.store.deliveries.get(deliveryId) !== delivery) return;

    delivery.attempts.push({
      at: new Date(started).toISOString(),
      status,
      error,
      duration_ms: Date.now() - started,
      injected_failure: injected,
    });
    this.onAttempt?.({
      ok: error === null,
      gaveUp: error !== null && delivery.attempts.length >= this.settings.maxAttempts,
      seconds: (Date.now() - started) / 1000,
    });
    if (error === null) {
      delivery.status = 'succeeded';
      delivery.next_attempt_at = null;
      if (!delivery.duplicate && event.pending_webhooks > 0) event.pending_webhooks -= 1;
      return;
    }
    if (delivery.attempts.length >= this.settings.maxAttempts) {
      delivery.status = 'failed';
      delivery.next_attempt_at = null;
      this.log.warn({ event: event.id, url: delivery.url, error }, 'webhook delivery gave up');
      return;
    }
    const backoff = Math.min(
      this.settings.retryBaseMs * 2 ** (delivery.attempts.length - 1),
      this.settings.retryMaxMs,
    );
    delivery.next_attempt_at = new Date(Date.now() + backoff).toISOString();
    this.log.debug(
      { event: event.id, url: delivery.url, error, backoff },
      'webhook delivery failed; will retry',
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.queue(delivery.endpoint_id).push(delivery.id);
      this.pump(delivery.endpoint_id);
    }, backoff);
    this.timers.add(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
