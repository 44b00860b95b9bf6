/**
 * TOTP as a second factor (RFC 6238 via otplib): set-up with a QR code,
 * confirmation with a first code, ten single-use recovery codes, and the
 * check of a code at login or when turning it off. A code is accepted once:
 * the time step of the last accepted code is stored and only a later one
 * passes (a conditional UPDATE, so two concurrent uses cannot both win).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { lazy } from '@tollgate/service-kit';
import type { Db } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import { createSecretCipher, type SecretCipher } from './secret-cipher.js';

export const RECOVERY_CODE_COUNT = 10;
/** Codes of the step before and after now are accepted too (clock drift, typing time). */
const TOLERANCE_SECONDS = 30;
const ISSUER = 'tollgate';
/** Loaded by the first TOTP request: a process whose users have no TOTP never holds them. */
const otplib = lazy(() => import('otplib'));
const qrcode = lazy(async () => (await import('qrcode')).default);

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const TOTP_CODE = /^\d{6}$/;
/** Recovery codes as shown: 10 random bytes in base32, "xxxxx-xxxxx-xxxxx-xxxxx"; compared without dashes, case-insensitively. */
const normaliseRecoveryCode = (code: string) => code.replace(/[\s-]/g, '').toLowerCase();

function newRecoveryCode(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return chars.match(/.{5}/g)!.join('-');
}

export function createTotpService(
  db: Db,
  now: () => number = Date.now,
  cipher: SecretCipher = createSecretCipher(undefined),
) {
  async function factorOf(userId: string) {
    return db.totpFactor.findUnique({ where: { userId } });
  }

  /** Accepts a TOTP code of a later time step than the last one accepted. */
  async function acceptTotp(userId: string, secret: string, lastStep: bigint | null, code: string) {
    const result = await (await otplib()).verify({
      secret,
      token: code,
      epoch: Math.floor(now() / 1000),
      epochTolerance: TOLERANCE_SECONDS,
      ...(lastStep !== null ? { afterTimeStep: Number(lastStep) } : {}),
    });
    if (!result.valid || !('timeStep' in result)) return false;
    const step = BigInt(result.timeStep);
    const { count } = await db.totpFactor.updateMany({
      where: { userId, OR: [{ lastTimeStep: null }, { lastTimeStep: { lt: step } }] },
      data: { lastTimeStep: step },
    });
    return count === 1;
  }

  return {
    async isEnabled(userId: string): Promise<boolean> {
      const factor = await factorOf(userId);
      return Boolean(factor?.confirmedAt);
    },

    /** A new secret (replacing one not confirmed yet), its otpauth URI and the URI as an SVG QR code. */
    async setup(user: { id: string; login: string }) {
      const existing = await factorOf(user.id);
      if (existing?.confirmedAt)
        throw Problems.mfaAlreadyEnabled('turn TOTP off first to set up a new authenticator');
      const { generateSecret, generateURI } = await otplib();
      const secret = generateSecret();
      await db.totpFactor.upsert({
        where: { userId: user.id },
        create: { userId: user.id, secret: cipher.seal(user.id, secret) },
        update: { secret: cipher.seal(user.id, secret), confirmedAt: null, lastTimeStep: null },
      });
      const otpauthUri = generateURI({ issuer: ISSUER, label: user.login, secret });
      const qrSvg = await (await qrcode()).toString(otpauthUri, {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 2,
      });
      return { secret, otpauthUri, qrSvg };
    },

    /** Turns TOTP on with a first good code; answers the recovery codes (shown this once, stored hashed). */
    async confirm(userId: string, code: string): Promise<string[]> {
      const factor = await factorOf(userId);
      if (!factor) throw Problems.mfaNotSetUp('call POST /v1/auth/mfa/totp/setup first');
      if (factor.confirmedAt) throw Problems.mfaAlreadyEnabled('TOTP is already on');
      if (
        !TOTP_CODE.test(code) ||
        !(await acceptTotp(userId, cipher.open(userId, factor.secret), factor.lastTimeStep, code))
      )
        throw Problems.mfaCodeInvalid('the code is wrong or was used already');
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await db.$transaction([
        db.totpFactor.update({ where: { userId }, data: { confirmedAt: new Date(now()) } }),
        db.recoveryCode.deleteMany({ where: { userId } }),
        db.recoveryCode.createMany({
          data: codes.map((c) => ({ id: randomUUID(), userId, codeHash: sha256(normaliseRecoveryCode(c)) })),
        }),
      ]);
      return codes;
    },

    /**
     * Whether `code` is a good second factor for the user now: a TOTP code
     * not used before, or an unused recovery code (then spent).
     */
    async check(userId: string, code: string): Promise<'totp' | 'recovery_code' | false> {
      const factor = await factorOf(userId);
      if (!factor?.confirmedAt) return false;
      if (TOTP_CODE.test(code))
        return (await acceptTotp(userId, cipher.open(userId, factor.secret), factor.lastTimeStep, code))
          ? 'totp'
          : false;
      const { count } = await db.recoveryCode.updateMany({
        where: { userId, codeHash: sha256(normaliseRecoveryCode(code)), usedAt: null },
        data: { usedAt: new Date(now()) },
      });
      return count === 1 ? 'recovery_code' : false;
    },

    async remainingRecoveryCodes(userId: string): Promise<number> {
      return db.recoveryCode.count({ where: { userId, usedAt: null } });
    },

    /**
     * Seals the secrets stored in clear (before TOTP_ENCRYPTION_KEY was set);
     * answers how many. Idempotent: run at every start, a no-op once done.
     */
    async sealLegacyRows(): Promise<number> {
      const rows = await db.totpFactor.findMany({
        where: { NOT: { secret: { startsWith: 'v1.' } } },
        select: { userId: true, secret: true },
      });
      let sealed = 0;
      for (const row of rows) {
        const next = cipher.seal(row.userId, row.secret);
        if (!cipher.isSealed(next)) return 0; // no key: nothing to do
        // Conditional: a set-up racing with this keeps its own new secret.
        const { count } = await db.totpFactor.updateMany({
          where: { userId: row.userId, secret: row.secret },
          data: { secret: next },
        });
        sealed += count;
      }
      return sealed;
    },

    async disable(userId: string) {
      await db.$transaction([
        db.totpFactor.deleteMany({ where: { userId } }),
        db.recoveryCode.deleteMany({ where: { userId } }),
      ]);
    },
  };
}

export type TotpService = ReturnType<typeof createTotpService>;

export const MFA_TICKET_TTL_SECONDS = 300;
/** Wrong codes one ticket takes before it is void (the account lockout counts them too). */
export const MFA_TICKET_MAX_ATTEMPTS = 5;

/** Tickets a password login with MFA on answers with: random, stored hashed, short-lived, few tries. */
export function createMfaTickets(db: Db, now: () => number = Date.now) {
  return {
    async issue(userId: string, login: string) {
      const ticket = randomBytes(32).toString('base64url');
      await db.mfaTicket.create({
        data: {
          id: randomUUID(),
          userId,
          login,
          tokenHash: sha256(ticket),
          expiresAt: new Date(now() + MFA_TICKET_TTL_SECONDS * 1000),
        },
      });
      return { ticket, expiresIn: MFA_TICKET_TTL_SECONDS };
    },
    /** The live ticket, counting this attempt; null when unknown, used, expired or out of attempts. */
    async attempt(ticket: string) {
      const rows = await db.$queryRaw<{ id: string; user_id: string; login: string }[]>`
        UPDATE mfa_tickets SET attempts = attempts + 1
         WHERE token_hash = ${sha256(ticket)} AND used_at IS NULL AND expires_at > ${new Date(now())}
           AND attempts < ${MFA_TICKET_MAX_ATTEMPTS}
        RETURNING id, user_id, login`;
      const row = rows[0];
      return row ? { id: row.id, userId: row.user_id, login: row.login } : null;
    },
    /** The live ticket's user, without counting an attempt (for passkey options); null when not live. */
    async peek(ticket: string) {
      const row = await db.mfaTicket.findFirst({
        where: {
          tokenHash: sha256(ticket),
          usedAt: null,
          expiresAt: { gt: new Date(now()) },
          attempts: { lt: MFA_TICKET_MAX_ATTEMPTS },
        },
        select: { userId: true },
      });
      return row?.userId ?? null;
    },
    /** Spends the ticket; false if another request spent it first. */
    async spend(id: string) {
      const { count } = await db.mfaTicket.updateMany({
        where: { id, usedAt: null },
        data: { usedAt: new Date(now()) },
      });
      return count === 1;
    },
  };
}

export type MfaTickets = ReturnType<typeof createMfaTickets>;
