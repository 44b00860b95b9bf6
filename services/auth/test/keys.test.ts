import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRedisRevocationStore, createTokenVerifier } from '@tollgate/auth-client';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  addDevKey,
  generatePrivateJwk,
  keySetFromJwks,
  loadOrCreateDevKeys,
} from '../src/domain/tokens/signing-keys.js';
import { registerAndLogin, startApp } from './helpers.js';

describe('signing key rotation', () => {
  it('publishes current and previous keys; new tokens use the newest; old tokens still verify', async () => {
    const oldKey = await generatePrivateJwk();
    const newKey = await generatePrivateJwk();
    const before = await startApp({}, await keySetFromJwks([oldKey]));
    const { tokens: oldTokens } = await registerAndLogin(before.app);
    await before.close();

    const after = await startApp({}, await keySetFromJwks([oldKey, newKey]));
    const redis = new Redis(after.config.redisUrl, { keyPrefix: after.config.redisKeyPrefix });
    try {
      const base = await after.app.listen({ host: '127.0.0.1', port: 0 });
      const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      expect(jwks.keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);

      const { tokens: newTokens } = await registerAndLogin(after.app);
      const kid = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
      expect(kid(newTokens.access_token)).toBe(newKey.kid);
      expect(kid(oldTokens.access_token)).toBe(oldKey.kid);

      const verifier = createTokenVerifier({
        jwksUrl: `${base}/.well-known/jwks.json`,
        issuer: after.config.jwt.issuer,
        audience: after.config.jwt.audience,
        revocation: createRedisRevocationStore(redis),
      });
      await expect(verifier.verifyAccessToken(oldTokens.access_token)).resolves.toBeDefined();
      await expect(verifier.verifyAccessToken(newTokens.access_token)).resolves.toBeDefined();
    } finally {
      redis.disconnect();
      await after.close();
    }
  });

  it('development keys are generated once, kept on disk, and rotated by adding a newer file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-keys-'));
    const first = await loadOrCreateDevKeys(dir);
    expect(first).toHaveLength(1);
    expect(await loadOrCreateDevKeys(dir)).toEqual(first);
    await new Promise((r) => setTimeout(r, 5));
    const added = await addDevKey(dir);
    const both = await loadOrCreateDevKeys(dir);
    expect(both.map((k) => k.kid)).toEqual([first[0]!.kid, added.kid]);
    const set = await keySetFromJwks(both);
    expect(set.current.kid).toBe(added.kid);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await addDevKey(dir, 3);
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.jwk.json'))).toHaveLength(3);
  });

  it('refuses keys that are not private Ed25519 JWKs', async () => {
    const jwk = await generatePrivateJwk();
    const { d: _d, ...publicOnly } = jwk;
    await expect(keySetFromJwks([publicOnly])).rejects.toThrow(/private Ed25519/);
    await expect(keySetFromJwks([])).rejects.toThrow(/no signing keys/);
  });
});

describe('development keys on a shared folder', () => {
  it('replicas starting together on an empty folder end with one and the same key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tollgate-shared-keys-'));
    const loaded = await Promise.all(Array.from({ length: 4 }, () => loadOrCreateDevKeys(dir)));
    const kids = loaded.map((keys) => keys.map((k) => k.kid));
    expect(new Set(kids.map((k) => JSON.stringify(k))).size).toBe(1);
    expect(kids[0]).toHaveLength(1);
    expect((await readdir(dir)).filter((f) => f.endsWith('.jwk.json'))).toEqual(['0000-first.jwk.json']);
  });
});
