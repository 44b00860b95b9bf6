/**
 * One Stripe customer per user: the unique user_id column is the guarantee,
 * the Stripe idempotency key makes concurrent first calls create only one
 * customer at Stripe too.
 */
import type Stripe from 'stripe';
import { type Db, isUniqueViolation, type Prisma, type Tx } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { AuthCallError, type AuthRolesClient } from '../role-sync/auth-roles-client.js';

/** The signed-in user, by id: their email and login are asked of auth, never taken from the token. */
export interface BillingUser {
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user a Stripe customer belongs to, from the metadata our API puts on it. */
export function userIdFromMetadata(metadata: Stripe.Metadata | null | undefined): string | null {
  const value = metadata?.userId ?? metadata?.user_id;
  return value && UUID.test(value) ? value.toLowerCase() : null;
}

export function customerRow(customer: Stripe.Customer | Stripe.DeletedCustomer) {
  if ('deleted' in customer && customer.deleted)
    return { deleted: true, raw: customer as unknown as Prisma.InputJsonValue };
  const c = customer as Stripe.Customer;
  return {
    email: c.email ?? null,
    name: c.name ?? null,
    deleted: false,
    raw: c as unknown as Prisma.InputJsonValue,
  };
}

type CustomerRecord = Awaited<ReturnType<Db['customer']['update']>>;

/**
 * The common case of upsertCustomer in one statement instead of a read and a
 * write (customer.* events are most of a backlog, ADR 0015): the same rules
 * (a deleted customer keeps its email and name; a user id is set only where
 * none is). Undefined when that user id belongs to another customer already:
 * the caller then takes the slow path, which decides that case as before.
 * Outside a transaction only, where a failed statement aborts nothing.
 *
 * A row that has its user (or gets none) is updated without naming
 * `user_id`: that column has a unique index, and an update naming it (as
 * INSERT ... ON CONFLICT DO UPDATE SET user_id = ... does) locks the row in
 * the strongest mode, which waits for every transaction holding its
 * key-share lock, i.e. each one that wrote a subscription or invoice of the
 * customer (the foreign key). In a burst of payments customer.updated waited
 * 31 ms on average behind subscription syncs (ADR 0015). Only a row that
 * gains its user, or a new one, goes through the insert.
 */
async function upsertInOneStatement(
  db: Db,
  id: string,
  row: ReturnType<typeof customerRow>,
  userId: string | null,
): Promise<CustomerRecord | undefined> {
  const email = 'email' in row ? row.email : null;
  const name = 'name' in row ? row.name : null;
  try {
    const [upserted] = await db.$queryRaw<CustomerRecord[]>`
      WITH updated AS (
        UPDATE customers SET
          email = CASE WHEN ${row.deleted} THEN customers.email ELSE ${email} END,
          name = CASE WHEN ${row.deleted} THEN customers.name ELSE ${name} END,
          deleted = ${row.deleted}, raw = ${JSON.stringify(row.raw)}::jsonb, updated_at = now()
        WHERE id = ${id} AND (user_id IS NOT NULL OR ${userId}::uuid IS NULL)
        RETURNING id, user_id AS "userId", email, name, deleted, raw, created_at AS "createdAt", updated_at AS "updatedAt"
      ), inserted AS (
        INSERT INTO customers (id, user_id, email, name, deleted, raw, updated_at)
        SELECT ${id}, ${userId}::uuid, ${email}, ${name}, ${row.deleted}, ${JSON.stringify(row.raw)}::jsonb, now()
         WHERE NOT EXISTS (SELECT 1 FROM updated)
        ON CONFLICT (id) DO UPDATE SET
          email = CASE WHEN EXCLUDED.deleted THEN customers.email ELSE EXCLUDED.email END,
          name = CASE WHEN EXCLUDED.deleted THEN customers.name ELSE EXCLUDED.name END,
          deleted = EXCLUDED.deleted,
          raw = EXCLUDED.raw,
          user_id = coalesce(customers.user_id, EXCLUDED.user_id),
          updated_at = now()
        RETURNING id, user_id AS "userId", email, name, deleted, raw, created_at AS "createdAt", updated_at AS "updatedAt"
      )
      SELECT * FROM updated UNION ALL SELECT * FROM inserted`;
    return upserted;
  } catch (error) {
    if (userId && isRawUniqueViolation(error)) return undefined;
    throw error;
  }
}

/** A unique violation (SQLSTATE 23505) from a raw statement, as Prisma's driver adapter reports it. */
function isRawUniqueViolation(error: unknown): boolean {
  if (isUniqueViolation(error)) return true;
  const cause = (
    error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } } }
  )?.meta?.driverAdapterError?.cause;
  return cause?.originalCode === '23505' || cause?.kind === 'UniqueConstraintViolation';
}

/** Upserts a customer seen at Stripe; maps it to a user when its metadata (or `userHint`) says whose it is. */
export async function upsertCustomer(
  db: Db | Tx,
  customer: Stripe.Customer | Stripe.DeletedCustomer,
  userHint?: string | null,
) {
  const row = customerRow(customer);
  const userId = userHint ?? ('metadata' in customer ? userIdFromMetadata(customer.metadata) : null);
  if ('$transaction' in db) {
    const upserted = await upsertInOneStatement(db, customer.id, row, userId);
    if (upserted) return upserted;
  }
  const existing = await db.customer.findUnique({ where: { id: customer.id } });
  if (existing) {
    return db.customer.update({
      where: { id: customer.id },
      data: { ...row, ...(existing.userId ? {} : userId ? { userId } : {}) },
    });
  }
  try {
    return await db.customer.create({ data: { id: customer.id, userId, ...row } });
  } catch (error) {
    // The user already has another customer: keep this one unmapped (an admin decides).
    if (!isUniqueViolation(error) || !userId) throw error;
    return db.customer.upsert({
      where: { id: customer.id },
      create: { id: customer.id, userId: null, ...row },
      update: row,
    });
  }
}

export interface CustomersDeps {
  db: Db;
  stripe: Stripe;
  /** Where the user's current email and login come from (auth's internal API). */
  auth: Pick<AuthRolesClient, 'getUser'>;
}

export function createCustomers({ db, stripe, auth }: CustomersDeps) {
  async function findByUser(userId: string) {
    return db.customer.findUnique({ where: { userId } });
  }

  /**
   * The user's email and login as auth has them now. An access token's
   * claims are as old as the token: after an email change (or a login taken
   * over by someone else) they would put the wrong person on the customer.
   */
  async function currentUser(userId: string) {
    try {
      return await auth.getUser(userId);
    } catch (error) {
      if (error instanceof AuthCallError && error.status === 404)
        throw Problems.userNotFound('auth has no such user any more');
      if (error instanceof AuthCallError)
        throw Problems.authUnavailable('the account service did not answer; try again');
      throw error;
    }
  }

  async function ensureCustomer({ id }: BillingUser) {
    const existing = await findByUser(id);
    if (existing) return existing;
    const user = await currentUser(id);
    const customer = await stripe.customers.create(
      {
        email: user.email,
        name: user.login,
        metadata: { userId: user.id, ...(user.login ? { login: user.login } : {}) },
      },
      { idempotencyKey: `tollgate-customer-${user.id}` },
    );
    try {
      return await db.customer.upsert({
        where: { id: customer.id },
        create: { id: customer.id, userId: user.id, ...customerRow(customer) },
        update: { userId: user.id },
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A concurrent call won the race; its row is the user's customer.
      const row = await findByUser(user.id);
      if (!row) throw error;
      return row;
    }
  }

  return { findByUser, ensureCustomer };
}

export type Customers = ReturnType<typeof createCustomers>;
