/**
 * Issue 9, item 10: a billing replica opens no more Postgres connections
 * than its budget, DATABASE_POOL_MAX + QUEUE_POOL_MAX + 2 (pg-boss's LISTEN
 * connection, and the workers' liveness connection, ADR 0015), however much
 * work it has.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Stack, startStack } from './stack.js';

let stack: Stack;
let observer: pg.Client;

beforeAll(async () => {
  stack = await startStack({ DATABASE_POOL_MAX: '3', QUEUE_POOL_MAX: '2' });
  observer = new pg.Client({ connectionString: stack.config.databaseUrl });
  await observer.connect();
});
afterAll(async () => {
  await observer?.end();
  await stack?.close();
});

async function connections(): Promise<number> {
  const { rows } = await observer.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
  );
  return rows[0]?.n ?? 0;
}

describe('connection budget', () => {
  it('stays within DATABASE_POOL_MAX + QUEUE_POOL_MAX + 2 under a burst of webhooks and requests', async () => {
    const customers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stack.stripe.customers.create({ email: `pool${i}@example.com` })),
    );
    const run = randomBytes(4).toString('hex');
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await connections());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const events = Array.from(
      { length: 300 },
      (_, i) =>
        ({
          id: `evt_pool_${run}_${i}`,
          object: 'event',
          type: 'customer.updated',
          created: Math.floor(Date.now() / 1000),
          api_version: '2026-10-28.endive',
          livemode: false,
          pending_webhooks: 0,
          request: { id: null, idempotency_key: null },
          data: { object: customers[i % customers.length] },
        }) as unknown as Stripe.Event,
    );
    await Promise.all([
      ...events.map((event) => stack.app.billing.inbox.accept(event)),
      ...Array.from({ length: 100 }, () => stack.app.inject({ method: 'GET', url: '/api/v1/products' })),
      ...Array.from({ length: 20 }, () => stack.app.inject({ method: 'GET', url: '/health/ready' })),
    ]);
    await eventually(
      async () =>
        (await stack.app.billing.db.webhookEvent.count({
          where: { id: { startsWith: `evt_pool_${run}_` }, status: { not: 'processed' } },
        })) === 0,
      60_000,
    );
    sampling = false;
    await sampler;
    console.log(`peak connections of one billing replica: ${peak} (budget 3 + 2 + 2)`);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(7);
  });
});
