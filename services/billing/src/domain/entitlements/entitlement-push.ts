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
import type { Db } from '../../db/prisma.js';

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

export function prismaPushPorts(db: Db): EntitlementPushPorts {
  return {
    change: (id) =>
      db.entitlementChange.findUnique({ where: { id }, select: { id: true, userId: true, status: true } }),
    async newest(userId) {
      const current = await db.userEntitlements.findUnique({ where: { userId } });
      if (!current) return null;
      const made = await db.entitlementChange.findUnique({
        where: { userId_version: { userId, version: current.version } },
        select: { cause: true },
      });
      return {
        version: current.version,
        features: current.features as FeatureSet,
        cause: (made?.cause as ChangeCause | undefined) ?? { type: 'sync' },
      };
    },
    async succeeded(id) {
      await db.entitlementChange.update({
        where: { id },
        data: { status: 'succeeded', attempts: { increment: 1 }, lastError: null, completedAt: new Date() },
      });
    },
    async failed(id, error) {
      await db.entitlementChange.update({
        where: { id },
        data: { status: 'retrying', attempts: { increment: 1 }, lastError: error.message.slice(0, 2000) },
      });
    },
  };
}

export function createEntitlementPushRunner({ db, auth }: { db: Db; auth: EntitlementsAuth }) {
  const ports = prismaPushPorts(db);
  return {
    run: (changeId: string, warn?: PushWarn) => pushEntitlementChange(ports, auth, changeId, warn),
  };
}

export type EntitlementPushRunner = ReturnType<typeof createEntitlementPushRunner>;
