/**
 * The role-sync runner against a real billing database and a fake of auth's
 * port (our own interface): no transaction may stay open while auth is
 * called, and a change of entitlement during the call is applied after it.
 */
import { randomUUID } from 'node:crypto';
import { provisionDatabase } from '@tollgate/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateBillingDatabase } from '../src/db/migrate.js';
import { createDatabase, type Db, type SqlPool } from '../src/db/prisma.js';
import type { AuthRolesClient } from '../src/domain/role-sync/auth-roles-client.js';
import { createRoleSyncRunner } from '../src/domain/role-sync/role-sync.js';

let db: Db;
let sql: SqlPool;
let observer: pg.Client;
let release: () => Promise<void>;

beforeAll(async () => {
  const database = await provisionDatabase('billing_rolesync');
  release = database.release;
  await migrateBillingDatabase(database.url);
  ({ db, sql } = createDatabase(database.url, 4));
  observer = new pg.Client({ connectionString: database.url });
  await observer.connect();
});
afterAll(async () => {
  await observer?.end();
  await db?.$disconnect();
  await release?.();
});

/** A subscription entitled to `role` and a pending role sync for it. */
async function fixture(role: string | null) {
  const userId = randomUUID();
  const customerId = `cus_${randomUUID().slice(0, 8)}`;
  const subscriptionId = `sub_${randomUUID().slice(0, 8)}`;
  await db.customer.create({ data: { id: customerId, userId, raw: {} } });
  await db.subscription.create({
    data: {
      id: subscriptionId,
      customerId,
      userId,
      status: role ? 'active' : 'canceled',
      entitledRole: role,
      stripeCreatedAt: new Date(),
      syncedAt: new Date(),
      raw: {},
    },
  });
  const id = randomUUID();
  await db.roleSync.create({
    data: {
      id,
      userId,
      role: 'premium',
      source: `subscription:${subscriptionId}`,
      subscriptionId,
      action: role ? 'grant' : 'revoke',
    },
  });
  return { id, userId, subscriptionId };
}

/** Sessions of this database, other than the observer, inside a transaction. */
async function openTransactions(): Promise<number> {
  const { rows } = await observer.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND state IN ('idle in transaction', 'idle in transaction (aborted)')`,
  );
  return rows[0]?.n ?? 0;
}

function fakeAuth(during: (call: string) => Promise<void>) {
  const calls: string[] = [];
  const client: Pick<AuthRolesClient, 'grant' | 'revoke' | 'listGrants'> = {
    async grant(_userId, role) {
      calls.push(`grant ${role}`);
      await during(`grant ${role}`);
    },
    async revoke(_userId, role) {
      calls.push(`revoke ${role}`);
      await during(`revoke ${role}`);
    },
    async *listGrants() {},
  };
  return { client, calls };
}

describe('role-sync runner', () => {
  it('holds no transaction open while auth is called', async () => {
    const { id } = await fixture('premium');
    const seen: number[] = [];
    const auth = fakeAuth(async () => {
      // Auth is slow: whatever billing holds open during the call is visible now.
      await new Promise((r) => setTimeout(r, 100));
      seen.push(await openTransactions());
    });
    const outcome = await createRoleSyncRunner({ db, sql, auth: auth.client }).run(id);
    expect(outcome).toBe('granted');
    expect(auth.calls).toEqual(['grant premium']);
    expect(seen).toEqual([0]);
    expect(await db.roleSync.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'succeeded',
      appliedAction: 'grant',
    });
  });

  it('applies the entitlement as it is after the call when it changed during it', async () => {
    const { id, subscriptionId } = await fixture('premium');
    let first = true;
    const auth = fakeAuth(async () => {
      if (!first) return;
      first = false;
      // The subscription is cancelled (another transaction) while the grant is on its way to auth.
      await db.subscription.update({
        where: { id: subscriptionId },
        data: { status: 'canceled', entitledRole: null },
      });
    });
    const outcome = await createRoleSyncRunner({ db, sql, auth: auth.client }).run(id);
    expect(auth.calls).toEqual(['grant premium', 'revoke premium']);
    expect(outcome).toBe('revoked');
    expect(await db.roleSync.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: 'succeeded',
      appliedAction: 'revoke',
    });
  });
});
