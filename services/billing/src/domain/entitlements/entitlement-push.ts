/**
 * Carries out one entitlement_changes row: hands auth the user's NEWEST
 * entitlements (not the row's own snapshot), with the cause of the change
 * that made that version. Auth keeps the highest version it was given, so
 * retries, duplicates and any order of runs converge; a row whose version
 * is already superseded still pushes the newest one (harmless if that one's
 * own job got there first).
 *
 * No transaction is held while auth is called.
 */
import {
  type ChangeCause,
  type EntitlementsSyncBody,
  FEATURE_KEY_PATTERN,
  type FeatureSet,
} from '@tollgate/contracts';
import type { Sql } from '../../db/prisma.js';

const FEATURE_KEY = new RegExp(FEATURE_KEY_PATTERN);

/** Told about feature keys left out of a push (logged as a warning by the worker). */
export type PushWarn = (
  details: { userId: string; changeId: string; keys: string[] },
  message: string,
) => void;

/**
 * The features auth can take: a key outside the contract's pattern (a Stripe
 * lookup_key such as "Pro Seats") would make auth refuse the whole push with
 * 400 on every retry, so it is left out, and the rest still reaches auth.
 */
export function pushableFeatures(features: FeatureSet): { features: FeatureSet; skipped: string[] } {
  const kept: FeatureSet = {};
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(features)) {
    if (FEATURE_KEY.test(key)) kept[key] = value;
    else skipped.push(key);
  }
  return { features: kept, skipped };
}

export type EntitlementPushOutcome = 'pushed' | 'skipped';

export interface EntitlementPushPorts {
  change(id: string): Promise<{ id: string; userId: string; status: string } | null>;
  /** The user's newest version and the cause recorded with it. */
  newest(userId: string): Promise<EntitlementsSyncBody | null>;
  succeeded(id: string, pushedVersion: number): Promise<void>;
  failed(id: string, error: Error): Promise<void>;
}

/** The part of `@tollgate/contracts`' EntitlementsSyncClient the push needs. */
export interface EntitlementsAuth {
  push(userId: string, body: EntitlementsSyncBody, requestId?: string): Promise<void>;
}

export async function pushEntitlementChange(
  ports: EntitlementPushPorts,
  auth: EntitlementsAuth,
  changeId: string,
  warn?: PushWarn,
): Promise<EntitlementPushOutcome> {
  const change = await ports.change(changeId);
  if (!change || change.status === 'succeeded' || change.status === 'cancelled') return 'skipped';
  try {
    const newest = await ports.newest(change.userId);
    if (!newest) return 'skipped';
    const { features, skipped } = pushableFeatures(newest.features);
    if (skipped.length)
      warn?.(
        { userId: change.userId, changeId: change.id, keys: skipped },
        'feature keys outside the contract pattern left out of the entitlements push; fix their lookup_key at Stripe',
      );
    const body = { ...newest, features };
    await auth.push(change.userId, body, change.id);
    await ports.succeeded(change.id, body.version);
    return 'pushed';
  } catch (error) {
    await ports.failed(change.id, error as Error);
    throw error;
  }
}

/** The ports in plain SQL: every payment's push runs them (ADR 0015). */
export function sqlPushPorts(sql: Sql): EntitlementPushPorts {
  return {
    async change(id) {
      const { rows } = await sql.query<{ id: string; userId: string; status: string }>({
        name: 'entitlement-change',
        text: `SELECT id::text, user_id::text AS "userId", status::text FROM entitlement_changes WHERE id = $1::uuid`,
        values: [id],
      });
      return rows[0] ?? null;
    },
    async newest(userId) {
      const { rows } = await sql.query<{ version: number; features: FeatureSet; cause: ChangeCause | null }>({
        name: 'entitlements-newest',
        text: `SELECT e.version, e.features, c.cause FROM user_entitlements e
                 LEFT JOIN entitlement_changes c ON c.user_id = e.user_id AND c.version = e.version
                WHERE e.user_id = $1::uuid`,
        values: [userId],
      });
      const current = rows[0];
      if (!current) return null;
      return {
        version: current.version,
        features: current.features,
        cause: current.cause ?? { type: 'sync' },
      };
    },
    async succeeded(id) {
      await sql.query({
        name: 'entitlement-change-succeeded',
        text: `UPDATE entitlement_changes SET status = 'succeeded', attempts = attempts + 1, last_error = NULL,
                      completed_at = now(), updated_at = now() WHERE id = $1::uuid`,
        values: [id],
      });
    },
    async failed(id, error) {
      await sql.query({
        name: 'entitlement-change-failed',
        text: `UPDATE entitlement_changes SET status = 'retrying', attempts = attempts + 1, last_error = $2,
                      updated_at = now() WHERE id = $1::uuid`,
        values: [id, error.message.slice(0, 2000)],
      });
    },
  };
}

export function createEntitlementPushRunner({ sql, auth }: { sql: Sql; auth: EntitlementsAuth }) {
  const ports = sqlPushPorts(sql);
  return {
    run: (changeId: string, warn?: PushWarn) => pushEntitlementChange(ports, auth, changeId, warn),
  };
}

export type EntitlementPushRunner = ReturnType<typeof createEntitlementPushRunner>;
