import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretCipher, parseEncryptionKey } from './secret-cipher.js';

const key = randomBytes(32);

describe('TOTP secret cipher', () => {
  it('seals a secret so that it does not show, and opens it again for the same user', () => {
    const cipher = createSecretCipher(key);
    const sealed = cipher.seal('user-1', 'JBSWY3DPEHPK3PXP');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(cipher.isSealed(sealed)).toBe(true);
    expect(cipher.open('user-1', sealed)).toBe('JBSWY3DPEHPK3PXP');
    // A fresh IV each time.
    expect(cipher.seal('user-1', 'JBSWY3DPEHPK3PXP')).not.toBe(sealed);
  });

  it("refuses a sealed secret moved to another user's row, or opened with another key", () => {
    const sealed = createSecretCipher(key).seal('user-1', 'JBSWY3DPEHPK3PXP');
    expect(() => createSecretCipher(key).open('user-2', sealed)).toThrow();
    expect(() => createSecretCipher(randomBytes(32)).open('user-1', sealed)).toThrow();
    expect(() => createSecretCipher(undefined).open('user-1', sealed)).toThrow(/TOTP_ENCRYPTION_KEY/);
  });

  it('reads a secret stored before encryption as is', () => {
    expect(createSecretCipher(key).open('user-1', 'JBSWY3DPEHPK3PXP')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('takes only a 32-byte key', () => {
    expect(parseEncryptionKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseEncryptionKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
