/**
 * The emulator's core: state, emulated time, events and their delivery.
 * Resource modules (customers.ts, subscriptions.ts, ...) are functions over it.
 */
import type Stripe from 'stripe';
import type { EmulatorConfig } from '../../config.js';
import { previousAttributes } from './diff.js';
import { newId } from './ids.js';
import { API_VERSION } from './shapes.js';
import { Store } from './store.js';
import { type DispatcherLogger, endpointWants, WebhookDispatcher } from './webhooks.js';

/** Which API call caused a change: `{null, null}` for automatic changes (renewals, retries). */
export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
}

export const AUTOMATIC: RequestInfo = { id: null, idempotencyKey: null };

export interface EmitOptions {
  previous?: object;
  request?: RequestInfo;
  at?: number;
}

export interface PaymentRetrySettings {
  retryDays: number[];
  afterFinalRetry: EmulatorConfig['afterFinalRetry'];
  invoiceFinalizeDelaySeconds: number;
}

export class Emulator {
  readonly store = new Store();
  readonly webhooks: WebhookDispatcher;
  publicUrl: string;
  payments: PaymentRetrySettings;
  private readonly changeListeners: (() => void)[] = [];
  private readonly eventListeners: ((event: Stripe.Event) => void)[] = [];

  constructor(
    readonly config: EmulatorConfig,
    log: DispatcherLogger,
    private readonly wallClockMs: () => number = Date.now,
  ) {
    this.publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
    this.payments = {
      retryDays: config.paymentRetryDays,
      afterFinalRetry: config.afterFinalRetry,
      invoiceFinalizeDelaySeconds: config.invoiceFinalizeDelaySeconds,
    };
    this.webhooks = new WebhookDispatcher(
      this.store,
      {
        maxAttempts: config.webhookMaxAttempts,
        retryBaseMs: config.webhookRetryBaseMs,
        retryMaxMs: config.webhookRetryMaxMs,
        timeoutMs: config.webhookTimeoutMs,
        concurrency: config.webhookConcurrency,
      },
      log,
    );
  }

  /** Emulated unix time for objects without a test clock: wall clock plus every advance. */
  now(): number {
    return Math.floor(this.wallClockMs() / 1000) + this.store.clockOffset;
  }

  /** The time an object lives in: its test clock's frozen time, or the emulator's time. */
  timeOf(testClock: string | Stripe.TestHelpers.TestClock | null | undefined): number {
    if (!testClock) return this.now();
    const id = typeof testClock === 'string' ? testClock : testClock.id;
    return this.store.testClocks.get(id)?.frozen_time ?? this.now();
  }

  timeOfCustomer(customerId: string | null | undefined): number {
    if (!customerId) return this.now();
    return this.timeOf(this.store.customers.get(customerId)?.test_clock);
  }

  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Called after each event is recorded (resources that follow others' events, e.g. entitlements). */
  onEvent(listener: (event: Stripe.Event) => void): void {
    this.eventListeners.push(listener);
  }

  changed(): void {
    for (const l of this.changeListeners) l();
  }

  /** Records an event with a snapshot of the object and hands it to every endpoint that wants it. */
  emit(type: string, object: { id?: string; object: string }, options: EmitOptions = {}): Stripe.Event {
    const endpoints = [...this.store.webhookEndpoints.items.values()].filter((r) =>
      endpointWants(r.endpoint, type),
    );
    const request = options.request ?? AUTOMATIC;
    const data: { object: unknown; previous_attributes?: unknown } = { object: structuredClone(object) };
    if (options.previous) data.previous_attributes = previousAttributes(options.previous, object);
    const event = {
      id: newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: options.at ?? this.now(),
      data,
      livemode: false,
      pending_webhooks: endpoints.length,
      request: { id: request.id, idempotency_key: request.idempotencyKey },
      type,
    } as unknown as Stripe.Event;
    this.store.events.put(event);
    this.webhooks.enqueue(
      event,
      endpoints.map((e) => e.id),
    );
    this.changed();
    for (const l of this.eventListeners) l(event);
    return event;
  }
}
