/**
 * Entitlement pushes from billing. Auth keeps the newest version; when a push
 * takes something away it raises the user's floor, so every verifier refuses
 * the user's older tokens (`entitlements_changed`) and the client refreshes
 * into a token with the new set. Growth needs no floor: the next refresh
 * carries it.
 *
 * The floor is recorded in Postgres first (with the push, in one
 * transaction), then published to the revocation store. A failed publish
 * does not fail the push: the store is declared incomplete (verifiers fall
 * back to the database or refuse, never accept an old token) and the
 * revocation keeper publishes the floor later, like a revocation.
 */
import type { RevocationStore } from '@tollgate/auth-client';
import type { EntitlementsSyncBody } from '@tollgate/contracts';
import { Problems } from '../../errors.js';
import type { EntitlementsRepository } from './entitlements.repository.js';

export interface EntitlementsServiceDeps {
  entitlements: Pick<EntitlementsRepository, 'apply' | 'markFloorsPublished'>;
  userExists(userId: string): Promise<boolean>;
  revocation: Pick<RevocationStore, 'raiseEntitlementsFloor'>;
  /** Told when the floor could not be published; the keeper publishes it later. */
  onPublishFailed?: (error: unknown, userId: string) => Promise<void> | void;
  /** How long a floor lasts: the access token TTL plus clock slack. */
  floorTtlSeconds: number;
  now?: () => Date;
}

export type PushResult = 'applied' | 'applied_shrunk' | 'stale';

export function createEntitlementsService(deps: EntitlementsServiceDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    async push(userId: string, body: EntitlementsSyncBody, actor: string): Promise<PushResult> {
      if (!(await deps.userExists(userId))) throw Problems.userNotFound(`no user ${userId}`);
      const floorUntil = new Date(now().getTime() + deps.floorTtlSeconds * 1000);
      const outcome = await deps.entitlements.apply(userId, body, actor, floorUntil);
      if (!outcome.applied) return 'stale';
      if (!outcome.shrank) return 'applied';
      try {
        await deps.revocation.raiseEntitlementsFloor(userId, body.version, deps.floorTtlSeconds);
      } catch (error) {
        await deps.onPublishFailed?.(error, userId);
        return 'applied_shrunk';
      }
      await deps.entitlements.markFloorsPublished([{ userId, version: body.version }]);
      return 'applied_shrunk';
    },
  };
}

export type EntitlementsService = ReturnType<typeof createEntitlementsService>;
