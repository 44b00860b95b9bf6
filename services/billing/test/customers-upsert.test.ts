/**
 * upsertCustomer's one-statement path (ADR 0015) against real PostgreSQL:
 * the same rules as the read-then-write path it replaces for the common case.
 */
import { provisionDatabase } from '@tollgate/test-kit';
import pg from 'pg';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateBillingDatabase } from '../src/db/migrate.js';
import { createPrismaClient, type Db } from '../src/db/prisma.js';
import { upsertCustomer } from '../src/domain/customers/customers.js';

let db: Db;
let release: () => Promise<void>;
let databaseUrl: string;

beforeAll(async () => {
  const database = await provisionDatabase('billing_customers');
  release = database.release;
  databaseUrl = database.url;
  await migrateBillingDatabase(database.url);
  db = createPrismaClient(database.url, 2);
});
afterAll(async () => {
  await db?.$disconnect();
  await release?.();
});

const USER_A = '11111111-1111-4111-8111-111111111111';
const USER_B = '22222222-2222-4222-8222-222222222222';

function customer(id: string, fields: Partial<Stripe.Customer> = {}): Stripe.Customer {
  return {
    id,
    object: 'customer',
    email: `${id}@example.com`,
    name: 'N',
    metadata: {},
    ...fields,
  } as Stripe.Customer;
}

describe('upsertCustomer', () => {
  it('creates, then updates without ever replacing a user id already set', async () => {
    const created = await upsertCustomer(db, customer('cus_one', { metadata: { userId: USER_A } }));
    expect(created).toMatchObject({
      id: 'cus_one',
      userId: USER_A,
      email: 'cus_one@example.com',
      deleted: false,
    });
    expect(created.createdAt).toBeInstanceOf(Date);

    const updated = await upsertCustomer(
      db,
      customer('cus_one', { email: 'new@example.com', metadata: { userId: USER_B } }),
    );
    expect(updated).toMatchObject({ id: 'cus_one', userId: USER_A, email: 'new@example.com' });
  });

  it('maps an unmapped customer once a user id is known, and keeps email and name when Stripe deleted it', async () => {
    await upsertCustomer(db, customer('cus_two'));
    expect((await db.customer.findUnique({ where: { id: 'cus_two' } }))?.userId).toBeNull();
    expect(await upsertCustomer(db, customer('cus_two'), USER_B)).toMatchObject({ userId: USER_B });

    const deleted = { id: 'cus_two', object: 'customer', deleted: true } as Stripe.DeletedCustomer;
    expect(await upsertCustomer(db, deleted)).toMatchObject({
      deleted: true,
      email: 'cus_two@example.com',
      name: 'N',
      userId: USER_B,
    });
  });

  it('leaves a second customer of a user unmapped (an admin decides)', async () => {
    // USER_A already has cus_one.
    const second = await upsertCustomer(db, customer('cus_three', { metadata: { userId: USER_A } }));
    expect(second).toMatchObject({ id: 'cus_three', userId: null, email: 'cus_three@example.com' });
    expect((await db.customer.findUnique({ where: { id: 'cus_one' } }))?.userId).toBe(USER_A);
  });

  it('does not wait for a transaction that wrote an invoice of the customer (its key-share lock)', async () => {
    // cus_one has its user (USER_A). A subscription sync holds such a transaction open for a while.
    const other = new pg.Client({ connectionString: databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO invoices (id, customer_id, currency, amount_due, amount_paid, total, stripe_created_at, raw, updated_at)
         VALUES ('in_lock', 'cus_one', 'usd', 0, 0, 0, now(), '{}', now())`,
      );
      const upsert = upsertCustomer(
        db,
        customer('cus_one', { email: 'while-locked@example.com', metadata: { userId: USER_A } }),
      );
      const outcome = await Promise.race([
        upsert.then((row) => row.email),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000)),
      ]);
      expect(outcome).toBe('while-locked@example.com');
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
  });
});
