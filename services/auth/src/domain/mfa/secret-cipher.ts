/**
 * TOTP secrets at rest: AES-256-GCM with a server key (TOTP_ENCRYPTION_KEY),
 * so a copy of the database alone cannot compute anyone's codes. Stored as
 * `v1.<iv>.<tag>.<ciphertext>` (base64url); the user id is the associated
 * data, so a sealed secret moved to another user's row does not open.
 * A value without the prefix is a secret stored before encryption (or with
 * no key configured): read as is, and sealed by `sealLegacyRows` at start.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'v1.';

export interface SecretCipher {
  seal(userId: string, secret: string): string;
  open(userId: string, stored: string): string;
  isSealed(stored: string): boolean;
}

/** The key from TOTP_ENCRYPTION_KEY: 32 bytes, base64 or base64url. */
export function parseEncryptionKey(value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error('TOTP_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  return key;
}

export function createSecretCipher(key: Buffer | undefined): SecretCipher {
  const isSealed = (stored: string) => stored.startsWith(PREFIX);
  return {
    isSealed,
    seal(userId, secret) {
      if (!key) return secret;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(userId));
      const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return `${PREFIX}${[iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url')).join('.')}`;
    },
    open(userId, stored) {
      if (!isSealed(stored)) return stored;
      if (!key) throw new Error('a TOTP secret is encrypted but TOTP_ENCRYPTION_KEY is not set');
      const [iv, tag, ciphertext] = stored
        .slice(PREFIX.length)
        .split('.')
        .map((p) => Buffer.from(p, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', key, iv!);
      decipher.setAAD(Buffer.from(userId));
      decipher.setAuthTag(tag!);
      return Buffer.concat([decipher.update(ciphertext!), decipher.final()]).toString('utf8');
    },
  };
}
