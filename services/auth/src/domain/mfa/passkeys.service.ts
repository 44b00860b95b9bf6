/**
 * Passkeys (WebAuthn) through @simplewebauthn/server: registration, the
 * list/rename/delete of a user's passkeys, and the check of an assertion for
 * a usernameless sign-in or as the second factor of an MFA ticket.
 *
 * Every challenge is made here, stored with what it is for (and whose it is)
 * and deleted by the response that brings it back: a challenge works once,
 * for its purpose, for CHALLENGE_TTL_SECONDS. The signature counter is
 * checked by the library (a counter that does not grow means a cloned
 * authenticator) and the new one stored with a conditional UPDATE, so two
 * concurrent uses of one assertion cannot both pass.
 */
import { randomUUID } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  RegistrationResponseJSON,
  VerifiedAuthenticationResponse,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import { lazy } from '@tollgate/service-kit';
import type { WebauthnConfig } from '../../config.js';
import type { Db } from '../../db/prisma.js';
import { Problems } from '../../errors.js';

export const CHALLENGE_TTL_SECONDS = 300;
/** A user's passkeys are few; the cap keeps registration options and lists small. */
export const MAX_PASSKEYS_PER_USER = 20;

/** @simplewebauthn/server (and its ASN.1/X.509 stack, ~10 MB resident) is loaded by the first passkey request. */
const webauthn = lazy(() => import('@simplewebauthn/server'));

export type ChallengePurpose = 'registration' | 'login' | 'mfa';

export interface PasskeyView {
  id: string;
  name: string;
  device_type: string;
  backed_up: boolean;
  created_at: string;
  last_used_at: string | null;
}

/** The challenge a browser signed, read from the response's clientDataJSON (verified properly later). */
function challengeOf(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as {
      challenge?: unknown;
    };
    return typeof data.challenge === 'string' ? data.challenge : null;
  } catch {
    return null;
  }
}

function view(row: {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    device_type: row.deviceType,
    backed_up: row.backedUp,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
  };
}

export function createPasskeyService(db: Db, config: WebauthnConfig, now: () => number = Date.now) {
  async function storeChallenge(challenge: string, purpose: ChallengePurpose, userId: string | null) {
    // Expired ones go with each new one: the table stays the size of the last few minutes.
    await db.webauthnChallenge.deleteMany({ where: { expiresAt: { lt: new Date(now()) } } });
    await db.webauthnChallenge.create({
      data: { challenge, purpose, userId, expiresAt: new Date(now() + CHALLENGE_TTL_SECONDS * 1000) },
    });
  }

  /** Deletes the challenge the response carries; its user id when it was live and for this purpose. */
  async function takeChallenge(clientDataJSON: string, purpose: ChallengePurpose) {
    const challenge = challengeOf(clientDataJSON);
    if (!challenge) throw Problems.passkeyChallengeInvalid('the response carries no challenge');
    const rows = await db.$queryRaw<{ user_id: string | null }[]>`
      DELETE FROM webauthn_challenges
       WHERE challenge = ${challenge} AND purpose = ${purpose} AND expires_at > ${new Date(now())}
      RETURNING user_id`;
    if (rows.length === 0)
      throw Problems.passkeyChallengeInvalid(
        'ask for new options: this challenge is unknown, used or expired',
      );
    return { challenge, userId: rows[0]!.user_id };
  }

  return {
    async count(userId: string): Promise<number> {
      return db.passkey.count({ where: { userId } });
    },

    async list(userId: string): Promise<PasskeyView[]> {
      const rows = await db.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
      return rows.map(view);
    },

    /** Options for navigator.credentials.create(): a discoverable credential with user verification. */
    async registrationOptions(user: { id: string; login: string; email: string }) {
      const existing = await db.passkey.findMany({ where: { userId: user.id } });
      if (existing.length >= MAX_PASSKEYS_PER_USER)
        throw Problems.passkeyLimit(`an account has at most ${MAX_PASSKEYS_PER_USER} passkeys`);
      const options = await (await webauthn()).generateRegistrationOptions({
        rpName: config.rpName,
        rpID: config.rpId,
        userName: user.login,
        userDisplayName: user.email,
        // The user handle an authenticator returns at a usernameless sign-in.
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({
          id: p.credentialId,
          transports: p.transports as AuthenticatorTransport[],
        })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        timeout: CHALLENGE_TTL_SECONDS * 1000,
      });
      await storeChallenge(options.challenge, 'registration', user.id);
      return options;
    },

    /** Verifies the authenticator's answer to registrationOptions and keeps the new passkey. */
    async register(userId: string, response: RegistrationResponseJSON, name?: string): Promise<PasskeyView> {
      const taken = await takeChallenge(response.response.clientDataJSON, 'registration');
      if (taken.userId !== userId)
        throw Problems.passkeyChallengeInvalid('this challenge was handed to another user');
      const { verifyRegistrationResponse } = await webauthn();
      let verification: VerifiedRegistrationResponse;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: taken.challenge,
          expectedOrigin: config.origins,
          expectedRPID: config.rpId,
          requireUserVerification: true,
        });
      } catch (error) {
        throw Problems.passkeyInvalid((error as Error).message);
      }
      if (!verification.verified) throw Problems.passkeyInvalid('the registration did not verify');
      const info = verification.registrationInfo;
      const count = await db.passkey.count({ where: { userId } });
      try {
        const row = await db.passkey.create({
          data: {
            id: randomUUID(),
            userId,
            credentialId: info.credential.id,
            publicKey: Buffer.from(info.credential.publicKey),
            counter: BigInt(info.credential.counter),
            transports: info.credential.transports ?? [],
            name: name?.trim() || `Passkey ${count + 1}`,
            deviceType: info.credentialDeviceType,
            backedUp: info.credentialBackedUp,
          },
        });
        return view(row);
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002')
          throw Problems.passkeyInvalid('this passkey is registered already');
        throw error;
      }
    },

    /**
     * Options for navigator.credentials.get(): without a user, any
     * discoverable passkey of this site (usernameless); with one (an MFA
     * ticket's), only that user's passkeys.
     */
    async authenticationOptions(userId?: string) {
      const allow = userId ? await db.passkey.findMany({ where: { userId } }) : [];
      if (userId && allow.length === 0) throw Problems.passkeyNotFound('this account has no passkey');
      const options = await (await webauthn()).generateAuthenticationOptions({
        rpID: config.rpId,
        userVerification: 'required',
        allowCredentials: allow.map((p) => ({
          id: p.credentialId,
          transports: p.transports as AuthenticatorTransport[],
        })),
        timeout: CHALLENGE_TTL_SECONDS * 1000,
      });
      await storeChallenge(options.challenge, userId ? 'mfa' : 'login', userId ?? null);
      return options;
    },

    /**
     * Checks an assertion; answers the id of the passkey's user. `userId`:
     * the user it must belong to (the MFA ticket's); without it, the
     * challenge must have been a usernameless one.
     */
    async authenticate(response: AuthenticationResponseJSON, userId?: string): Promise<string> {
      const taken = await takeChallenge(response.response.clientDataJSON, userId ? 'mfa' : 'login');
      if (userId && taken.userId !== userId)
        throw Problems.passkeyChallengeInvalid('this challenge was handed out for another login');
      const passkey = await db.passkey.findUnique({ where: { credentialId: response.id } });
      if (!passkey || (userId && passkey.userId !== userId))
        throw Problems.passkeyInvalid('this passkey is not registered here');
      // A discoverable credential names its user: it must be the passkey's.
      const handle = response.response.userHandle;
      if (handle && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId)
        throw Problems.passkeyInvalid('the user handle does not match the passkey');
      const { verifyAuthenticationResponse } = await webauthn();
      let verification: VerifiedAuthenticationResponse;
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: taken.challenge,
          expectedOrigin: config.origins,
          expectedRPID: config.rpId,
          requireUserVerification: true,
          credential: {
            id: passkey.credentialId,
            publicKey: new Uint8Array(passkey.publicKey),
            counter: Number(passkey.counter),
            transports: passkey.transports as AuthenticatorTransport[],
          },
        });
      } catch (error) {
        throw Problems.passkeyInvalid((error as Error).message);
      }
      if (!verification.verified) throw Problems.passkeyInvalid('the assertion did not verify');
      const newCounter = BigInt(verification.authenticationInfo.newCounter);
      // Authenticators without a counter always say 0; any other must grow, once per value.
      const { count } = await db.passkey.updateMany({
        where: {
          id: passkey.id,
          ...(newCounter > 0n ? { counter: { lt: newCounter } } : { counter: 0n }),
        },
        data: { counter: newCounter, lastUsedAt: new Date(now()) },
      });
      if (count !== 1) throw Problems.passkeyInvalid('the signature counter did not grow');
      return passkey.userId;
    },

    async rename(userId: string, id: string, name: string): Promise<PasskeyView> {
      const { count } = await db.passkey.updateMany({ where: { id, userId }, data: { name: name.trim() } });
      if (count !== 1) throw Problems.passkeyNotFound('no passkey of yours has this id');
      return view(await db.passkey.findUniqueOrThrow({ where: { id } }));
    },

    async remove(userId: string, id: string): Promise<void> {
      const { count } = await db.passkey.deleteMany({ where: { id, userId } });
      if (count !== 1) throw Problems.passkeyNotFound('no passkey of yours has this id');
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
