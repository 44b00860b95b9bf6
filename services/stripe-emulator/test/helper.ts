/**
 * Test helpers: an emulator on a random port, the official SDK pointed at it,
 * the `_emulator` control API over plain HTTP, and a webhook receiver.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { type EmulatorConfig, type RunningEmulator, startEmulator } from '../src/index.js';

export interface TestEmulator {
  emu: RunningEmulator;
  stripe: Stripe;
  control<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function setup(options: Partial<EmulatorConfig> = {}): Promise<TestEmulator> {
  const emu = await startEmulator({ webhookRetryBaseMs: 20, webhookRetryMaxMs: 200, ...options });
  const stripe = new Stripe(emu.apiKey, { ...emu.stripeConfig, maxNetworkRetries: 0 });
  return {
    emu,
    stripe,
    async control<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${emu.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${emu.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await res.json()) as T;
      if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    close: () => emu.close(),
  };
}

export interface ReceivedWebhook {
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
}

/** A webhook endpoint that records what it receives and answers with the statuses it is told to. */
export class Receiver {
  readonly received: ReceivedWebhook[] = [];
  /** Statuses for the next requests, in order; 200 once exhausted. */
  statuses: number[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          headers: req.headers,
          at: Date.now(),
        });
        res.statusCode = this.statuses.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhook`;
    return this;
  }

  events(): Stripe.Event[] {
    return this.received.map((r) => JSON.parse(r.body) as Stripe.Event);
  }

  types(): string[] {
    return this.events().map((e) => e.type);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

export interface PayForm {
  email?: string;
  cardNumber: string;
  cardExpiry?: string;
  cardCvc?: string;
  billingName?: string;
}

/** Submits the hosted checkout page's form as a browser would. */
export async function payOnHostedPage(url: string, form: PayForm): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      email: form.email ?? 'buyer@example.com',
      cardNumber: form.cardNumber,
      cardExpiry: form.cardExpiry ?? '12 / 34',
      cardCvc: form.cardCvc ?? '123',
      billingName: form.billingName ?? 'Test Buyer',
    }),
  });
}

export const CARD_OK = '4242 4242 4242 4242';
export const CARD_DECLINED = '4000 0000 0000 0002';
export const CARD_CHARGE_FAILS = '4000 0000 0000 0341';
export const DAY = 86400;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** The Stripe error a call fails with (the test fails if it succeeds). */
export async function stripeError(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

/** The webhook events `receiver` got while `fn` ran (deliveries before and after it settled). */
export async function eventsDuring(
  t: TestEmulator,
  receiver: Receiver,
  fn: () => Promise<unknown>,
): Promise<Stripe.Event[]> {
  await t.emu.waitForWebhooks();
  const from = receiver.received.length;
  await fn();
  await t.emu.waitForWebhooks();
  return receiver.events().slice(from);
}
