/**
 * pg-boss, in the billing database (schema "pgboss"). Jobs are inserted
 * through the caller's transaction (`bossDb`, or `txDb` for a Prisma one), so a job exists if and
 * only if the change that asked for it was committed: the transactional outbox.
 */
import { createHash } from 'node:crypto';
import { PgBoss } from 'pg-boss';
import type { Config } from '../config.js';
import { type Sql, type Statement, sqlOf, type Tx } from '../db/prisma.js';

export const QUEUES = {
  /** data: { eventId } — process one inbox event. */
  webhook: 'webhook-event',
  /** data: { roleSyncId } — apply one role_syncs row at auth. */
  roleSync: 'role-sync',
  /** data: { changeId } — push a user's newest entitlements to auth (entitlement_changes row). */
  entitlementSync: 'entitlement-sync',
  /** data: {} — read Stripe's event list for events whose webhooks never arrived (one at a time). */
  stripeCatchup: 'stripe-catchup',
} as const;

export type Boss = PgBoss;

// "Forever" for pg-boss: a role sync must survive an auth outage of any length.
const FOREVER_SECONDS = 10 * 365 * 24 * 3600;

export function createBoss(config: Config): PgBoss {
  const boss = new PgBoss({
    connectionString: config.databaseUrl,
    schema: 'pgboss',
    max: config.pools.queue,
    useListenNotify: true,
    application_name: 'tollgate-billing',
    // Its statements (named, below) planned once per connection: planning the fetch took Postgres
    // about 4 times as long as running it (ADR 0015).
    options: '-c plan_cache_mode=force_generic_plan',
    // The pass that fails jobs whose heartbeat stopped (a worker killed with -9) runs this often,
    // so such a job is retried within heartbeat + this many seconds instead of at expiry.
    superviseIntervalSeconds: config.worker.superviseSeconds,
    monitorIntervalSeconds: config.worker.superviseSeconds,
  });
  nameStatements(boss.getDb());
  return boss;
}

/** Distinct statement texts given a name; any beyond run unnamed, so a text that varied could not grow without end. */
const MAX_NAMED_STATEMENTS = 200;
const statementNames = new Map<string, string>();

/**
 * A pg-boss statement, named after its text: each connection then parses and
 * plans it once, instead of on every call. Postgres spent about 4 times as long
 * planning pg-boss's fetch as running it (188 vs 49 ms over a burst of 20
 * payments, pg_stat_statements), and its insert as long again (ADR 0015).
 * The fetch has no parameters (the queue's name is in its text). A text with a
 * `;` goes as it is: pg-boss sends its multi-statement scripts that way, and
 * those cannot be prepared.
 */
export function bossStatement(text: string, values?: unknown[]): Statement {
  if (text.includes(';')) return text;
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= MAX_NAMED_STATEMENTS) return text;
    name = `pgboss-${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: values ?? [] };
}

/** pg-boss's own connections (fetch, complete, supervise) name their statements too. */
function nameStatements(db: ReturnType<PgBoss['getDb']>) {
  // pg's query() takes a statement config wherever it takes text; pg-boss passes the text through.
  const executeSql = db.executeSql.bind(db) as (
    text: unknown,
    values?: unknown[],
    ...rest: unknown[]
  ) => ReturnType<typeof db.executeSql>;
  db.executeSql = ((text: string, values?: unknown[], ...rest: unknown[]) =>
    executeSql(bossStatement(text, values), values, ...rest)) as typeof db.executeSql;
}

/** Starts pg-boss (creating or migrating its schema) and declares our queues. */
export async function startBoss(boss: PgBoss, config: Config): Promise<void> {
  await boss.start();
  const w = config.worker;
  await upsertQueue(boss, QUEUES.webhook, {
    notify: true,
    retryLimit: w.webhookMaxAttempts - 1,
    retryDelay: w.webhookRetryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: 3600,
    expireInSeconds: 120,
    heartbeatSeconds: w.heartbeatSeconds,
  });
  await upsertQueue(boss, QUEUES.roleSync, {
    notify: true,
    retryLimit: 1_000_000,
    retryDelay: w.roleSyncRetryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: w.roleSyncRetryDelayMaxSeconds,
    expireInSeconds: 60,
    retentionSeconds: FOREVER_SECONDS,
    heartbeatSeconds: w.heartbeatSeconds,
  });
  // Same delivery promise as role syncs: retried until auth answers, whatever the outage.
  await upsertQueue(boss, QUEUES.entitlementSync, {
    notify: true,
    retryLimit: 1_000_000,
    retryDelay: w.roleSyncRetryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: w.roleSyncRetryDelayMaxSeconds,
    expireInSeconds: 60,
    retentionSeconds: FOREVER_SECONDS,
    heartbeatSeconds: w.heartbeatSeconds,
  });
  await upsertQueue(boss, QUEUES.stripeCatchup, {
    // One catch-up queued or running across every replica; a lost one is simply the next one.
    policy: 'exclusive',
    retryLimit: 0,
    expireInSeconds: 300,
    heartbeatSeconds: w.heartbeatSeconds,
  });
}

type QueueOptions = NonNullable<Parameters<PgBoss['createQueue']>[1]>;

async function upsertQueue(boss: PgBoss, name: string, options: QueueOptions) {
  if (await boss.getQueue(name)) {
    const { notify: _n, policy: _p, ...rest } = options;
    // pg-boss's types leave heartbeatSeconds out of updateQueue, but its SQL sets it: queues made
    // before heartbeats existed get them too (jobs created from then on carry it).
    await boss.updateQueue(name, rest as Parameters<PgBoss['updateQueue']>[1]);
  } else {
    await boss.createQueue(name, options);
  }
}

/** pg-boss's database adapter over plain SQL (a transaction's client): its job exists if that transaction commits. */
export function bossDb(sql: Sql) {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      return sql.query(bossStatement(text, values), values);
    },
  };
}

/** The same over a Prisma interactive transaction. */
export function txDb(tx: Tx) {
  return bossDb(sqlOf(tx));
}
