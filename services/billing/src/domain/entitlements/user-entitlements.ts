/**
 * Each user's entitlements, re-derived from the mirror whenever something
 * that grants them changed (a subscription applied, a purchase made,
 * refunded or expired, a dunning step): the union over every source, a
 * version that grows by one with every change, and per change an
 * entitlement_changes row (with its cause) whose job pushes the newest
 * version to auth, and its audit_log entry. All inside the caller's
 * transaction: the outbox.
 *
 * `refreshUserEntitlements` is written against a small store port so its
 * rule (compare, bump, record) is unit-tested on a fake; `entitlementsStore`
 * below is the one the service uses.
 */
import { randomUUID } from 'node:crypto';
import { type ChangeCause, entitlementsShrank, type FeatureSet } from '@tollgate/contracts';
import { currentTraceparent } from '@tollgate/service-kit';
import type { Sql, SqlPool } from '../../db/prisma.js';
import { type Boss, bossDb, QUEUES } from '../../queue/queue.js';
import { auditInsert, auditValues } from '../audit/audit-log.js';
import type { Access, DunningPolicy } from '../dunning/dunning.js';
import { canonical, type DerivedEntitlements, deriveEntitlements, type EntitlementSource } from './derive.js';
import { featuresFor, featuresOfProduct, type ProductFeatureRow, unionFeatures } from './features.js';

export interface VersionedEntitlements extends DerivedEntitlements {
  version: number;
}

export interface UserEntitlementsStore {
  /** Serializes refreshes of one user (so versions never race). */
  lock(userId: string): Promise<void>;
  sources(userId: string, now: Date): Promise<EntitlementSource[]>;
  current(userId: string): Promise<VersionedEntitlements | null>;
  /** Stores the new version and records the change (and its push to auth). */
  save(
    userId: string,
    next: VersionedEntitlements,
    change: { previous: FeatureSet; cause: ChangeCause },
  ): Promise<void>;
}

export const EMPTY_ENTITLEMENTS: VersionedEntitlements = { version: 0, features: {}, roles: [], sources: [] };

export interface RefreshOutcome {
  changed: boolean;
  entitlements: VersionedEntitlements;
}

export async function refreshUserEntitlements(
  store: UserEntitlementsStore,
  userId: string,
  cause: ChangeCause,
  now: Date,
): Promise<RefreshOutcome> {
  await store.lock(userId);
  const [sources, stored] = await Promise.all([store.sources(userId, now), store.current(userId)]);
  const current = stored ?? EMPTY_ENTITLEMENTS;
  const derived = deriveEntitlements(sources);
  const { version: _v, ...comparable } = current;
  if (canonical(comparable) === canonical(derived)) return { changed: false, entitlements: current };
  const next = { ...derived, version: current.version + 1 };
  await store.save(userId, next, { previous: current.features, cause });
  return { changed: true, entitlements: next };
}

/** How a stored dunning state grants (see domain/dunning). */
export function accessOfState(state: string | null): Access {
  if (state === 'active' || state === 'past_due') return 'full';
  if (state === 'restricted') return 'restricted';
  return 'none';
}

export function purchaseGrants(p: { status: string; expiresAt: Date | null }, now: Date): boolean {
  return p.status === 'paid' && (p.expiresAt === null || p.expiresAt > now);
}

/** What the sources query returns: JSON, so timestamps are ISO strings. */
interface SourceRows {
  subscriptions: {
    id: string;
    productId: string | null;
    dunningState: string | null;
    dunningNextStepAt: string | null;
    entitledRole: string | null;
  }[];
  purchases: { id: string; productId: string; status: string; expiresAt: string | null }[];
  products: { id: string; role: string | null; features: ProductFeatureRow[] }[];
}

/**
 * The store over the billing database, inside the caller's transaction (a
 * pooled client's, or a Prisma one through `sqlOf`). Plain SQL: it runs in
 * every subscription apply, on the way from a payment to its role (ADR 0015).
 */
export function entitlementsStore(sql: Sql, boss: Boss, policy: DunningPolicy): UserEntitlementsStore {
  return {
    async lock(userId) {
      await sql.query('SELECT 1 FROM pg_advisory_xact_lock(hashtext($1))', [`entitlements|${userId}`]);
    },

    async sources(userId, now) {
      // One round trip instead of four (subscriptions, purchases, products, their features): it runs
      // inside every subscription apply's transaction, on the way from a payment to its role (ADR 0015).
      const {
        rows: [row],
      } = await sql.query<SourceRows>({
        name: 'entitlement-sources',
        text: `
        WITH subs AS (SELECT id, product_id, dunning_state, dunning_next_step_at, entitled_role
                        FROM subscriptions WHERE user_id = $1::uuid),
             buys AS (SELECT id, product_id, status, expires_at FROM purchases WHERE user_id = $1::uuid)
        SELECT
          (SELECT coalesce(json_agg(json_build_object('id', id, 'productId', product_id,
                    'dunningState', dunning_state, 'dunningNextStepAt', dunning_next_step_at,
                    'entitledRole', entitled_role) ORDER BY id), '[]'::json) FROM subs) AS subscriptions,
          (SELECT coalesce(json_agg(json_build_object('id', id, 'productId', product_id, 'status', status,
                    'expiresAt', expires_at) ORDER BY id), '[]'::json) FROM buys) AS purchases,
          (SELECT coalesce(json_agg(json_build_object('id', p.id, 'role', p.role, 'features',
                    (SELECT coalesce(json_agg(json_build_object('lookupKey', f.lookup_key, 'limit', f."limit",
                              'active', f.active) ORDER BY f.feature_id), '[]'::json)
                       FROM product_features f WHERE f.product_id = p.id))), '[]'::json)
             FROM products p WHERE p.id IN (SELECT product_id FROM subs UNION SELECT product_id FROM buys)) AS products`,
        values: [userId],
      });
      const date = (value: string | null) => (value === null ? null : new Date(value));
      const subscriptions = (row?.subscriptions ?? []).map((s) => ({
        ...s,
        dunningNextStepAt: date(s.dunningNextStepAt),
      }));
      const purchases = (row?.purchases ?? []).map((p) => ({ ...p, expiresAt: date(p.expiresAt) }));
      const products = row?.products ?? [];
      const byId = new Map(products.map((p) => [p.id, p]));
      const granted = (productId: string | null) =>
        featuresOfProduct((productId && byId.get(productId)?.features) || []);

      const fromSubscriptions = subscriptions.map((s): EntitlementSource => {
        const access = accessOfState(s.dunningState);
        return {
          type: 'subscription',
          id: s.id,
          productId: s.productId,
          state: s.dunningState ?? 'inactive',
          until: access === 'none' ? null : s.dunningNextStepAt,
          role: s.entitledRole,
          features: featuresFor(access, granted(s.productId), policy.restricted.features),
        };
      });
      const fromPurchases = purchases.map((p): EntitlementSource => {
        const grants = purchaseGrants(p, now);
        return {
          type: 'purchase',
          id: p.id,
          productId: p.productId,
          state: grants ? 'paid' : p.status === 'paid' ? 'expired' : p.status,
          until: grants ? p.expiresAt : null,
          role: grants ? (byId.get(p.productId)?.role ?? null) : null,
          features: grants ? granted(p.productId) : {},
        };
      });
      return [...fromSubscriptions, ...fromPurchases];
    },

    async current(userId) {
      const {
        rows: [row],
      } = await sql.query<Omit<EntitlementsRow, 'user_id'>>({
        name: 'entitlements-current',
        text: 'SELECT version, features, roles, sources FROM user_entitlements WHERE user_id = $1::uuid',
        values: [userId],
      });
      return row ?? null;
    },

    async save(userId, next, change) {
      const id = randomUUID();
      // The job's id is chosen here, so the row is written once with it (no UPDATE after the send).
      const jobId = randomUUID();
      // The new version, its change record and the audit entry: one statement, one round trip.
      await sql.query(
        `WITH stored AS (
           INSERT INTO user_entitlements (user_id, version, features, roles, sources, updated_at)
           VALUES ($1::uuid, $2::int, $3::jsonb, $4::jsonb, $5::jsonb, now())
           ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version, features = EXCLUDED.features,
             roles = EXCLUDED.roles, sources = EXCLUDED.sources, updated_at = EXCLUDED.updated_at),
         change AS (
           INSERT INTO entitlement_changes (id, job_id, user_id, version, previous, features, cause, updated_at)
           VALUES ($6::uuid, $7, $1::uuid, $2::int, $8::jsonb, $3::jsonb, $9::jsonb, now()))
         ${auditInsert(10)}`,
        [
          userId,
          next.version,
          JSON.stringify(next.features),
          JSON.stringify(next.roles),
          JSON.stringify(next.sources),
          id,
          jobId,
          JSON.stringify(change.previous),
          JSON.stringify(change.cause),
          ...auditValues({
            userId,
            action: 'entitlements_changed',
            subscriptionId: change.cause.subscription_id ?? null,
            outboxId: id,
            cause: change.cause,
            details: {
              version: next.version,
              previous: change.previous,
              features: next.features,
              shrank: entitlementsShrank(change.previous, next.features),
            },
          }),
        ],
      );
      // The job continues the trace of what changed the entitlements (ADR 0025).
      const traceparent = currentTraceparent();
      await boss.send(
        QUEUES.entitlementSync,
        { changeId: id, ...(traceparent ? { traceparent } : {}) },
        { db: bossDb(sql), id: jobId },
      );
    },
  };
}

type EntitlementsRow = {
  user_id: string;
  version: number;
  features: FeatureSet;
  roles: string[];
  sources: DerivedEntitlements['sources'];
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the API reads: the stored derivation (empty, version 0, for a user
 * with nothing), in plain SQL, with no cache. The row is the version: a
 * cache would still have to read it to know it is current (with several
 * replicas any of them may have bumped it), and the rest of the row costs
 * next to nothing beside that round trip. So every upgrade and downgrade is
 * answered from the first request after its commit (ADR 0018).
 *
 * The reads that arrive in one turn of the event loop share one query (a
 * request's read starts after it arrived, so none is answered from older
 * data): under load, one round trip and one statement for many requests.
 */
export function createEntitlementsReader({ sql }: { sql: Sql }) {
  let waiting = new Map<
    string,
    { resolve(row: EntitlementsRow | undefined): void; reject(e: unknown): void }[]
  >();

  async function readRows(userIds: string[]): Promise<Map<string, EntitlementsRow>> {
    const { rows } = await sql.query<EntitlementsRow>({
      // Named: each connection parses and plans it once, then only binds and runs it.
      name: 'entitlements-of-users',
      text: 'SELECT user_id::text, version, features, roles, sources FROM user_entitlements WHERE user_id = ANY($1::uuid[])',
      values: [userIds],
    });
    return new Map(rows.map((row) => [row.user_id, row]));
  }

  function flush() {
    const batch = waiting;
    waiting = new Map();
    readRows([...batch.keys()]).then(
      (rows) => {
        for (const [userId, callers] of batch) for (const c of callers) c.resolve(rows.get(userId));
      },
      (error: unknown) => {
        for (const callers of batch.values()) for (const c of callers) c.reject(error);
      },
    );
  }

  function rowOf(userId: string): Promise<EntitlementsRow | undefined> {
    // Auth's user ids are uuids; anything else has no row (and must not fail the others' query).
    const key = userId.toLowerCase();
    if (!UUID.test(key)) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) setImmediate(flush);
      const callers = waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else waiting.set(key, [{ resolve, reject }]);
    });
  }

  async function forUser(userId: string): Promise<VersionedEntitlements> {
    const row = await rowOf(userId);
    if (!row) return EMPTY_ENTITLEMENTS;
    return {
      version: row.version,
      // jsonb keeps its own key order; answers list features alphabetically.
      features: unionFeatures([row.features]),
      roles: row.roles,
      sources: row.sources,
    };
  }

  async function check(userId: string, feature: string) {
    const features = (await rowOf(userId))?.features ?? {};
    // Own keys only: a feature named like an Object.prototype member is not granted by it.
    const value = Object.hasOwn(features, feature) ? features[feature] : undefined;
    return { allowed: value !== undefined, limit: typeof value === 'number' ? value : null };
  }

  return { forUser, check };
}

export type EntitlementsReader = ReturnType<typeof createEntitlementsReader>;

/** Re-derives one user's entitlements in a transaction of its own (a purchase, a summary event). */
export function createEntitlementsRefresher(deps: {
  sql: SqlPool;
  boss: Boss;
  clock: { now(): Date };
  policy: DunningPolicy;
}) {
  return async function refresh(userId: string, cause: ChangeCause): Promise<RefreshOutcome> {
    return deps.sql.transaction((sql) =>
      refreshUserEntitlements(
        entitlementsStore(sql, deps.boss, deps.policy),
        userId,
        cause,
        deps.clock.now(),
      ),
    );
  };
}
