/**
 * Stripe's official CLI (`@stripe/cli`, the real binary from npm) runs its own
 * `stripe trigger` fixtures, unchanged, against the emulator; every trigger
 * must complete and the emulator must deliver the event it is named after,
 * signed, to the registered endpoint.
 *
 * The CLI needs no login with `--api-key`; it writes a config file under
 * $HOME/.config/stripe (a temporary HOME here), and it looks up
 * api.github.com for a version check that fails fast offline and does not
 * stop the trigger. STRIPE_CLI_TELEMETRY_OPTOUT keeps it from sending telemetry.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, setup, type TestEmulator } from './helper.js';

const SHIM = createRequire(import.meta.url).resolve('@stripe/cli/bin/shim.js');

/** Each trigger, and the events (besides its own) that real Stripe sends for its fixture. */
const TRIGGERS: Record<string, string[]> = {
  'customer.created': [],
  'customer.updated': ['customer.created'],
  'customer.deleted': ['customer.created'],
  'product.created': [],
  'price.created': ['product.created'],
  'checkout.session.completed': ['payment_intent.succeeded', 'charge.succeeded'],
  'checkout.session.expired': [],
  'customer.subscription.created': ['payment_method.attached', 'invoice.paid'],
  'customer.subscription.updated': ['customer.subscription.created'],
  'customer.subscription.deleted': ['customer.subscription.created'],
  'customer.subscription.trial_will_end': ['customer.subscription.created'],
  'invoice.created': ['invoiceitem.created'],
  'invoice.finalized': ['invoice.created'],
  'invoice.paid': ['invoice.payment_succeeded', 'charge.succeeded'],
  'invoice.payment_succeeded': ['invoice.paid'],
  'invoice.payment_failed': ['charge.failed'],
  'payment_intent.created': [],
  'payment_intent.succeeded': ['payment_intent.created', 'charge.succeeded'],
  'payment_intent.payment_failed': ['charge.failed'],
  'payment_intent.canceled': ['payment_intent.created'],
  'charge.succeeded': ['payment_intent.succeeded'],
  'charge.failed': ['payment_intent.payment_failed'],
  'charge.refunded': ['refund.created'],
  'setup_intent.succeeded': ['setup_intent.created'],
  'payment_method.attached': ['customer.created'],
};

let t: TestEmulator;
let receiver: Receiver;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'stripe-cli-home-'));
  receiver = await new Receiver().start();
  t = await setup({ webhookUrl: receiver.url });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  rmSync(home, { recursive: true, force: true });
});

function trigger(event: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [SHIM, 'trigger', event, '--api-key', t.emu.apiKey, '--api-base', t.emu.url],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          XDG_CONFIG_HOME: join(home, '.config'),
          STRIPE_CLI_TELEMETRY_OPTOUT: '1',
          STRIPE_NO_AUTO_UPDATE: '1',
        },
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('stripe trigger (the official CLI) against the emulator', () => {
  it.each(Object.entries(TRIGGERS))(
    '%s completes and its events arrive signed',
    async (event, companions) => {
      const from = receiver.received.length;
      const { code, output } = await trigger(event);
      expect(output, output).toContain('Trigger succeeded');
      expect(code).toBe(0);
      await t.emu.waitForWebhooks();
      const delivered = receiver.received.slice(from);
      const events = delivered.map((r) =>
        t.stripe.webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), t.emu.webhookSecret),
      );
      const types = events.map((e) => e.type);
      for (const type of [event, ...companions])
        expect(types, `${type} in ${types.join(', ')}`).toContain(type);
      expect(events.every((e) => e.api_version === '2026-10-28.endive')).toBe(true);
    },
    30_000,
  );

  it('rejects a tampered delivery (the signatures checked above are real)', () => {
    const last = receiver.received.at(-1);
    expect(last).toBeDefined();
    expect(() =>
      Stripe.webhooks.constructEvent(
        `${last?.body} `,
        String(last?.headers['stripe-signature']),
        t.emu.webhookSecret,
      ),
    ).toThrow();
  });
});
