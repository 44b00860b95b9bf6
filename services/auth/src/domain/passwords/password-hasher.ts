/**
 * argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1). Hashes made
 * with other parameters still verify and are upgraded on the next login.
 */
import argon2 from 'argon2';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether the password matches, and whether the stored hash should be replaced. */
  verify(hash: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /** Spends the same time as a real verification; used when there is no user, so timing reveals nothing. */
  verifyAgainstDummy(password: string): Promise<void>;
}

export async function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID): Promise<PasswordHasher> {
  const options = { type: argon2.argon2id as 2, ...params };
  const dummyHash = await argon2.hash('tollgate-dummy-password', options);
  return {
    hash: (password) => argon2.hash(password, options),
    async verify(hash, password) {
      let ok = false;
      try {
        ok = await argon2.verify(hash, password);
      } catch {
        ok = false;
      }
      return { ok, needsRehash: ok && argon2.needsRehash(hash, params) };
    },
    async verifyAgainstDummy(password) {
      await argon2.verify(dummyHash, password);
    },
  };
}
