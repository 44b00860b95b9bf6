/** Started flows, one-time codes and linked identities, in auth's database. */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/prisma.js';

export interface FlowRecord {
  stateHash: string;
  provider: string;
  bindingHash: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  linkUserId: string | null;
  expiresAt: Date;
}

export function createOidcRepository(db: Db) {
  return {
    async saveFlow(flow: FlowRecord): Promise<void> {
      // Expired flows are of no use to anyone: each new one sweeps them.
      await db.$transaction([
        db.oAuthFlow.deleteMany({ where: { expiresAt: { lt: new Date() } } }),
        db.oAuthFlow.create({ data: flow }),
      ]);
    },
    /** Removes and returns the unexpired flow with this state: a state is good for one callback. */
    async takeFlow(stateHash: string): Promise<FlowRecord | null> {
      const rows = await db.$queryRaw<FlowRecord[]>`
        DELETE FROM oauth_flows WHERE state_hash = ${stateHash} AND expires_at > now()
        RETURNING state_hash AS "stateHash", provider, binding_hash AS "bindingHash",
          code_verifier AS "codeVerifier", nonce, redirect_uri AS "redirectUri",
          link_user_id::text AS "linkUserId", expires_at AS "expiresAt"`;
      return rows[0] ?? null;
    },
    async saveCode(code: { codeHash: string; userId: string; provider: string; expiresAt: Date }) {
      await db.$transaction([
        db.oAuthCode.deleteMany({ where: { expiresAt: { lt: new Date() } } }),
        db.oAuthCode.create({ data: code }),
      ]);
    },
    /** Removes and returns the unexpired code: exchanging it twice finds nothing the second time. */
    async takeCode(codeHash: string): Promise<{ userId: string; provider: string } | null> {
      const rows = await db.$queryRaw<{ userId: string; provider: string }[]>`
        DELETE FROM oauth_codes WHERE code_hash = ${codeHash} AND expires_at > now()
        RETURNING user_id::text AS "userId", provider`;
      return rows[0] ?? null;
    },
    findIdentity(issuer: string, subject: string) {
      return db.userIdentity.findUnique({ where: { issuer_subject: { issuer, subject } } });
    },
    identitiesOf(userId: string) {
      return db.userIdentity.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
    },
    addIdentity(identity: {
      userId: string;
      provider: string;
      issuer: string;
      subject: string;
      email?: string;
    }) {
      return db.userIdentity.create({
        data: { id: randomUUID(), ...identity, email: identity.email ?? null },
      });
    },
    /**
     * Unlinks the user's identity from `provider` unless that would leave no
     * way to log in. The account's row is locked first, so two concurrent
     * unlinks of its last two identities cannot both pass.
     * 'none' when there is no such identity, 'last' when it is the last way in.
     */
    async removeIdentity(userId: string, provider: string): Promise<'removed' | 'none' | 'last'> {
      return db.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
        const removed = await tx.$executeRaw`
          DELETE FROM user_identities i WHERE i.user_id = ${userId}::uuid AND i.provider = ${provider}
            AND (
              EXISTS (SELECT 1 FROM users u WHERE u.id = i.user_id AND u.password_hash IS NOT NULL)
              OR EXISTS (SELECT 1 FROM user_identities o WHERE o.user_id = i.user_id AND o.id <> i.id)
            )`;
        if (removed === 1) return 'removed';
        const exists = await tx.userIdentity.findUnique({ where: { userId_provider: { userId, provider } } });
        return exists ? 'last' : 'none';
      });
    },
  };
}

export type OidcRepository = ReturnType<typeof createOidcRepository>;
