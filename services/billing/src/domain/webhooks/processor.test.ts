import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Db, Sql } from '../../db/prisma.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Invoices } from '../invoices/invoices.js';
import type { SubscriptionSync, SyncResult } from '../subscriptions/subscription-sync.js';
import { HANDLED_EVENT_TYPES } from './event-types.js';
import { createProcessor, type ProcessorDeps } from './processor.js';

/** Stripe's 404, as the SDK raises it. */
const notFound = (id: string) =>
  Object.assign(new Error(`No such object: '${id}'`), {
    type: 'StripeInvalidRequestError',
    code: 'resource_missing',
    statusCode: 404,
  });

const event = (type: string, object: Record<string, unknown>) =>
  ({ id: 'evt_1', type, created: 1, data: { object } }) as unknown as Stripe.Event;

function processor(overrides: Partial<ProcessorDeps> = {}) {
  const synced: string[] = [];
  const subscriptions = {
    async sync(id: string): Promise<SyncResult> {
      synced.push(id);
      if (id.startsWith('sub_gone')) throw notFound(id);
      return { subscriptionId: id, status: 'active', userId: 'u1', changes: 1 };
    },
  } as unknown as SubscriptionSync;
  const invoices = { refresh: async () => null } as unknown as Invoices;
  const deps: ProcessorDeps = {
    db: {} as Db,
    sql: {} as Sql,
    stripe: {} as Stripe,
    catalog: {} as Catalog,
    checkout: {
      sessionCompleted: async (id: string) => {
        throw notFound(id);
      },
      sessionChanged: async () => {},
    },
    invoices,
    subscriptions,
    purchases: { recordFromSession: async () => null, chargeRefunded: async () => null },
    refreshEntitlements: async () => undefined,
    plans: { afterCheckout: async () => {}, trials: { recordTrialWillEnd: async () => {} } },
    planChanges: { scheduleChanged: async () => {} },
    ...overrides,
  };
  return { processor: createProcessor(deps), synced };
}

describe('processor', () => {
  it('applies a subscription event by re-fetching the subscription it names', async () => {
    const { processor: p, synced } = processor();
    await expect(p.handle(event('customer.subscription.updated', { id: 'sub_1' }))).resolves.toEqual({
      status: 'processed',
    });
    expect(synced).toEqual(['sub_1']);
  });

  it.each([
    [
      'customer.subscription.created',
      { id: 'sub_gone_1', object: 'subscription' },
      'subscription sub_gone_1',
    ],
    ['checkout.session.completed', { id: 'cs_gone', object: 'checkout.session' }, 'checkout.session cs_gone'],
    ['invoice.paid', { id: 'in_gone', object: 'invoice' }, 'invoice in_gone'],
  ])('marks %s orphaned when Stripe does not know the object', async (type, object, named) => {
    const { processor: p } = processor();
    const outcome = await p.handle(event(type, object));
    expect(outcome.status).toBe('orphaned');
    expect(outcome).toMatchObject({ reason: expect.stringContaining(named) });
  });

  it('lets any other failure through, so the event is retried', async () => {
    const outage = Object.assign(new Error('connection reset'), { type: 'StripeConnectionError' });
    const { processor: p } = processor({
      subscriptions: {
        sync: async () => {
          throw outage;
        },
      } as unknown as SubscriptionSync,
    });
    await expect(p.handle(event('customer.subscription.updated', { id: 'sub_1' }))).rejects.toBe(outage);
  });

  it('ignores event types it has no handler for', async () => {
    const { processor: p } = processor();
    await expect(p.handle(event('balance.available', { id: 'bal_1' }))).resolves.toEqual({
      status: 'ignored',
    });
  });

  it('ignores a type named like an Object.prototype member (no handler is inherited)', async () => {
    const { processor: p } = processor();
    for (const type of ['constructor', 'toString', '__proto__'])
      await expect(p.handle(event(type, { id: 'x_1' }))).resolves.toEqual({ status: 'ignored' });
  });

  it('handles the listed types, which the webhook-events command prints without a database', async () => {
    expect(processor().processor.handledTypes).toEqual(HANDLED_EVENT_TYPES);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, '..', '..', 'cli', 'webhook-events.ts')],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 },
    );
    expect(stdout.trim().split(',')).toEqual([...HANDLED_EVENT_TYPES]);
  });
});
