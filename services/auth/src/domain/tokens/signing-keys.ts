/**
 * Ed25519 signing keys. The newest key signs; every key in the set is
 * published in the JWKS so tokens signed before a rotation keep verifying
 * until they expire.
 *
 * Production takes the keys from JWT_SIGNING_KEYS (never generated, never on
 * disk); development generates one on first start and keeps it in KEYS_DIR.
 */
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { link, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TOKEN_ALGORITHM } from '@tollgate/auth-client';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';

export interface SigningKeySet {
  /**
   * The key new tokens are signed with: as a CryptoKey (jose) and as a
   * node:crypto KeyObject (what the token issuer signs with).
   */
  current: { kid: string; key: Awaited<ReturnType<typeof importJWK>>; privateKey: KeyObject };
  /** Public keys of every key in the set, newest first. */
  jwks: { keys: JWK[] };
  /** Resolves a token's `kid` to its public key (auth verifies its own tokens with it). */
  resolver: JWTVerifyGetKey;
}

export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = TOKEN_ALGORITHM;
  jwk.use = 'sig';
  return jwk;
}

function publicPart(jwk: JWK): JWK {
  const { d: _private, ...rest } = jwk;
  return { ...rest, alg: TOKEN_ALGORITHM, use: 'sig' };
}

/** Builds a key set from private JWKs ordered oldest first. */
export async function keySetFromJwks(privateJwks: JWK[]): Promise<SigningKeySet> {
  if (privateJwks.length === 0) throw new Error('no signing keys');
  for (const jwk of privateJwks) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.kid) {
      throw new Error('signing keys must be private Ed25519 JWKs (kty OKP, crv Ed25519) with a kid');
    }
  }
  const newest = privateJwks[privateJwks.length - 1]!;
  const jwks = { keys: [...privateJwks].reverse().map(publicPart) };
  return {
    current: {
      kid: newest.kid!,
      key: await importJWK(newest, TOKEN_ALGORITHM),
      privateKey: createPrivateKey({ key: newest as JsonWebKey, format: 'jwk' }),
    },
    jwks,
    resolver: createLocalJWKSet(jwks),
  };
}

export function parseSigningKeysEnv(value: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('JWT_SIGNING_KEYS is not JSON (expected an array of private JWKs)');
  }
  if (!Array.isArray(parsed)) throw new Error('JWT_SIGNING_KEYS must be a JSON array of private JWKs');
  return parsed as JWK[];
}

/** Reads the development keys in `dir` (file names sort oldest first), generating one when there is none. */
export async function loadOrCreateDevKeys(dir: string): Promise<JWK[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let files = (await readdir(dir)).filter((f) => f.endsWith('.jwk.json')).sort();
  if (files.length === 0) {
    // Replicas starting together on one empty volume (`docker compose up
    // --scale auth=2`) must end with the same key: written aside, then linked
    // under one name; link() fails for all but the first.
    const jwk = await generatePrivateJwk();
    const aside = path.join(dir, `.${jwk.kid}.tmp`);
    await writeFile(aside, JSON.stringify(jwk), { mode: 0o600 });
    try {
      await link(aside, path.join(dir, '0000-first.jwk.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(aside);
    }
    files = (await readdir(dir)).filter((f) => f.endsWith('.jwk.json')).sort();
  }
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as JWK));
}

/** Adds a new newest key to `dir`, keeping at most `keep` keys (the oldest are deleted). */
export async function addDevKey(dir: string, keep = 3): Promise<JWK> {
  const { rm } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const jwk = await generatePrivateJwk();
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${jwk.kid}.jwk.json`;
  await writeFile(path.join(dir, name), JSON.stringify(jwk), { mode: 0o600 });
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jwk.json')).sort();
  for (const old of files.slice(0, Math.max(0, files.length - keep))) await rm(path.join(dir, old));
  return jwk;
}
