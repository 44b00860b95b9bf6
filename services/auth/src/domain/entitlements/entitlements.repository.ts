/**
 * A user's entitlements as billing last pushed them, and the floor that
 * refuses older tokens after a shrink. A push is applied under a row lock, so
 * concurrent or reordered pushes end with the highest version, and its audit
 * entry is written in the same transaction.
 */
import type { EntitlementsSyncBody, FeatureSet } from '@tollgate/contracts';
import { entitlementsShrank } from '@tollgate/contracts';
import type { Db } from '../../db/prisma.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { auditRow } from '../audit/audit.repository.js';

export interface HeldEntitlements {
  version: number;
  features: FeatureSet;
}

export type PushOutcome =
  | { applied: false; heldVersion: number }
  | { applied: true; shrank: boolean; floorUntil: Date | null };

export interface FloorRow {
  userId: string;
  version: number;
  floorUntil: Date;
}

export function createEntitlementsRepository(db: Db) {
  return {
    async current(userId: string): Promise<HeldEntitlements | null> {
      const row = await db.userEntitlements.findUnique({
        where: { userId },
        select: { version: true, features: true },
      });
      return row ? { version: Number(row.version), features: row.features as FeatureSet } : null;
    },

    /**
     * Applies a push unless auth holds this version or a newer one. When it
     * takes something away, the floor rises to its version until `floorUntil`
     * and is marked unpublished (the caller publishes it to Redis).
     */
    async apply(
      userId: string,
      push: EntitlementsSyncBody,
      actor: string,
      floorUntil: Date,
    ): Promise<PushOutcome> {
      return db.$transaction(async (tx) => {
        await tx.$executeRaw`
          INSERT INTO user_entitlements (user_id) VALUES (${userId}::uuid) ON CONFLICT (user_id) DO NOTHING`;
        const [held] = await tx.$queryRaw<{ version: bigint; features: FeatureSet }[]>`
          SELECT version, features FROM user_entitlements WHERE user_id = ${userId}::uuid FOR UPDATE`;
        const heldVersion = Number(held?.version ?? 0);
        if (push.version <= heldVersion) return { applied: false, heldVersion };
        const before = held?.features ?? {};
        const shrank = entitlementsShrank(before, push.features);
        await tx.userEntitlements.update({
          where: { userId },
          data: {
            version: BigInt(push.version),
            features: push.features as Prisma.InputJsonValue,
            ...(shrank ? { floorVersion: BigInt(push.version), floorUntil, floorPublishedAt: null } : {}),
          },
        });
        await tx.auditEntry.createMany({
          data: [
            auditRow({
              userId,
              action: 'entitlements_changed',
              actor,
              cause: push.cause,
              details: {
                version: push.version,
                previous_version: heldVersion,
                before,
                after: push.features,
                shrank,
              },
            }),
          ],
        });
        return { applied: true, shrank, floorUntil: shrank ? floorUntil : null };
      });
    },

    /** The floor in force for a user now (0 when none): the authority when Redis cannot tell. */
    async floorOf(userId: string, now = new Date()): Promise<number> {
      const row = await db.userEntitlements.findUnique({
        where: { userId },
        select: { floorVersion: true, floorUntil: true },
      });
      return row?.floorUntil && row.floorUntil > now ? Number(row.floorVersion) : 0;
    },

    /** Every floor still in force: what a rebuilt cache must hold. */
    async liveFloors(now = new Date()): Promise<FloorRow[]> {
      const rows = await db.userEntitlements.findMany({
        where: { floorUntil: { gt: now } },
        select: { userId: true, floorVersion: true, floorUntil: true },
      });
      return rows.map(floorRow);
    },

    /** Floors in force that no Redis write has confirmed yet. */
    async unpublishedFloors(limit: number, now = new Date()): Promise<FloorRow[]> {
      const rows = await db.userEntitlements.findMany({
        where: { floorUntil: { gt: now }, floorPublishedAt: null },
        orderBy: { updatedAt: 'asc' },
        take: limit,
        select: { userId: true, floorVersion: true, floorUntil: true },
      });
      return rows.map(floorRow);
    },

    /** Marks floors published, unless a newer floor replaced one meanwhile (that one still has to be). */
    async markFloorsPublished(
      floors: readonly { userId: string; version: number }[],
      at = new Date(),
    ): Promise<void> {
      if (floors.length === 0) return;
      await db.$executeRaw`
        UPDATE user_entitlements e SET floor_published_at = ${at}
          FROM unnest(${floors.map((f) => f.userId)}::uuid[], ${floors.map((f) => BigInt(f.version))}::bigint[])
               AS p(user_id, version)
         WHERE e.user_id = p.user_id AND e.floor_version = p.version`;
    },
  };
}

function floorRow(r: { userId: string; floorVersion: bigint; floorUntil: Date | null }): FloorRow {
  return { userId: r.userId, version: Number(r.floorVersion), floorUntil: r.floorUntil as Date };
}

export type EntitlementsRepository = ReturnType<typeof createEntitlementsRepository>;
