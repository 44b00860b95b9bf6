import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Stripe from 'stripe';
import { afterAll, describe, expect, it } from 'vitest';
import { readCatalogue } from '../src/domain/products-prices/seed.js';
import type { Delivery } from '../src/index.js';
import { seedStripe } from '../src/seed-stripe.js';
import { Receiver, setup, sleep } from './helper.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('seed-stripe', () => {
  it('creates the catalogue in an empty account, idempotently', async () => {
    const t = await setup({ seed: false });
    try {
      expect((await t.stripe.products.list()).data).toHaveLength(0);
      const first = await seedStripe(t.stripe, readCatalogue());
      // 3 products, 5 prices, the coupon and its promotion code.
      expect(first.created).toHaveLength(10);
      const second = await seedStripe(t.stripe, readCatalogue());
      expect(second.created).toEqual([]);
      expect(second.unchanged).toHaveLength(10);
      const products = await t.stripe.products.list();
      expect(products.data.map((p) => [p.id, p.metadata.role]).sort()).toEqual([
        ['prod_tollgate_basic', 'subscriber'],
        ['prod_tollgate_downloads', 'downloads'],
        ['prod_tollgate_premium', 'premium'],
      ]);
      const prices = await t.stripe.prices.list({ lookup_keys: ['tollgate_premium_yearly'] });
      expect(prices.data[0]?.unit_amount).toBe(9990);
      expect(prices.data[0]?.recurring?.interval).toBe('year');

      // A price whose amount drifted is replaced: new price takes the lookup key, the old one is archived.
      const old = prices.data[0] as Stripe.Price;
      await t.stripe.prices.update(old.id, { lookup_key: 'moved_away' });
      const drifted = await t.stripe.prices.create({
        product: 'prod_tollgate_premium',
        currency: 'usd',
        unit_amount: 1,
        recurring: { interval: 'year' },
        lookup_key: 'tollgate_premium_yearly',
      });
      const third = await seedStripe(t.stripe, readCatalogue());
      expect(third.created).toHaveLength(1);
      expect((await t.stripe.prices.retrieve(drifted.id)).active).toBe(false);
    } finally {
      await t.close();
    }
  });

  it('runs as the npm script against STRIPE_API_URL', async () => {
    const t = await setup({ seed: false });
    try {
      const { stdout } = await run(
        join(process.cwd(), '../../node_modules/.bin/tsx'),
        ['src/scripts/seed-stripe.ts'],
        {
          env: { ...process.env, STRIPE_SECRET_KEY: t.emu.apiKey, STRIPE_API_URL: t.emu.url },
        },
      );
      expect(JSON.parse(stdout).created).toHaveLength(10);
      expect((await t.stripe.prices.list()).data).toHaveLength(5);
    } finally {
      await t.close();
    }
  });
});

describe('state file', () => {
  it('keeps customers and subscriptions across a restart, without seeding twice', async () => {
    const stateFile = join(dir, 'state.json');
    const a = await setup({ stateFile });
    const customer = await a.stripe.customers.create({ email: 'persist@example.com' });
    const pm = await a.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await a.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_tollgate_basic_monthly' }],
      default_payment_method: pm.id,
    });
    await a.control('POST', '/_emulator/advance-time', { seconds: 3600 });
    await a.close();

    const b = await setup({ stateFile });
    try {
      const again = (await b.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
      expect(again.email).toBe('persist@example.com');
      expect((await b.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
      expect((await b.stripe.prices.list()).data).toHaveLength(5);
      const time = await b.control<{ offset_seconds: number }>('GET', '/_emulator/time');
      expect(time.offset_seconds).toBe(3600);
    } finally {
      await b.close();
    }
  });

  it('keeps idempotent responses and webhook deliveries, and resumes pending deliveries', async () => {
    const stateFile = join(dir, 'state-deliveries.json');
    const receiver = await new Receiver().start();
    // The first attempt fails and the retry is far away: the delivery is still pending at shutdown.
    receiver.statuses = [500];
    const a = await setup({ stateFile, webhookUrl: receiver.url, webhookRetryBaseMs: 60_000 });
    try {
      const customer = await a.stripe.customers.create(
        { email: 'replay@example.com' },
        { idempotencyKey: 'persisted-key' },
      );
      let before: Delivery[] = [];
      for (let i = 0; i < 200 && before[0]?.attempts.length !== 1; i++) {
        await sleep(10);
        before = (await a.control<{ data: Delivery[] }>('GET', '/_emulator/deliveries')).data;
      }
      expect(before.map((d) => [d.status, d.attempts.length])).toEqual([['pending', 1]]);
      await a.close();

      const b = await setup({ stateFile, webhookUrl: receiver.url });
      try {
        const replayed = await b.stripe.customers.create(
          { email: 'replay@example.com' },
          { idempotencyKey: 'persisted-key' },
        );
        expect(replayed.id).toBe(customer.id);
        expect((await b.stripe.customers.list({ email: 'replay@example.com' })).data).toHaveLength(1);
        const res = await b.control<{ data: Delivery[] }>('GET', '/_emulator/deliveries?wait_ms=5000');
        const delivery = res.data.find((d) => d.event_type === 'customer.created');
        expect(delivery?.status).toBe('succeeded');
        expect(delivery?.attempts.map((x) => x.status)).toEqual([500, 200]);
        expect(receiver.received).toHaveLength(2);
      } finally {
        await b.close();
      }
    } finally {
      await receiver.close();
    }
  });
});
