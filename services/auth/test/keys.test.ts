import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  conditionalJwksFetch,
  createRedisRevocationStore,
  createTokenVerifier,
  JWKS_MAX_AGE_SECONDS,
} from '@tollgate/auth-client';
import { Redis } from 'ioredis';
import { createRemoteJWKSet, customFetch } from 'jose';
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

describe('JWKS caching', () => {
  it('answers with an ETag and a short max-age, and 304 to If-None-Match naming the current set', async () => {
    const oldKey = await generatePrivateJwk();
    const before = await startApp({}, await keySetFromJwks([oldKey]));
    const first = await before.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    await before.close();
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers['cache-control']).toBe(`public, max-age=${JWKS_MAX_AGE_SECONDS}`);

    // Restarted with the same keys (or another replica): the same ETag.
    const again = await startApp({}, await keySetFromJwks([oldKey]));
    try {
      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const cached = await again.app.inject({
          method: 'GET',
          url: '/.well-known/jwks.json',
          headers: { 'if-none-match': ifNoneMatch },
        });
        expect(cached.statusCode, ifNoneMatch).toBe(304);
        expect(cached.body).toBe('');
        expect(cached.headers.etag).toBe(etag);
        expect(cached.headers['cache-control']).toBe(`public, max-age=${JWKS_MAX_AGE_SECONDS}`);
      }
      const stale = await again.app.inject({
        method: 'GET',
        url: '/.well-known/jwks.json',
        headers: { 'if-none-match': '"an-older-set"' },
      });
      expect(stale.statusCode).toBe(200);
      expect(stale.json()).toEqual(first.json());
    } finally {
      await again.close();
    }

    // After a rotation the set, and so the ETag, is another: the old ETag gets the new set.
    const rotated = await startApp({}, await keySetFromJwks([oldKey, await generatePrivateJwk()]));
    try {
      const response = await rotated.app.inject({
        method: 'GET',
        url: '/.well-known/jwks.json',
        headers: { 'if-none-match': etag },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers.etag).not.toBe(etag);
      expect((response.json() as { keys: unknown[] }).keys).toHaveLength(2);
    } finally {
      await rotated.close();
    }
  });

  it("auth-client's refetch is a conditional request, and a 304 keeps the keys it had", async () => {
    const key = await generatePrivateJwk();
    const ctx = await startApp({}, await keySetFromJwks([key]));
    try {
      const base = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
      const seen: { ifNoneMatch: string | null; status: number }[] = [];
      const recording: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        seen.push({ ifNoneMatch: new Headers(init?.headers).get('if-none-match'), status: response.status });
        return response;
      };
      const keys = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
        [customFetch]: conditionalJwksFetch(recording),
      });
      await keys({ alg: 'EdDSA', kid: key.kid! });
      await keys.reload();
      await keys.reload();
      expect(seen.map((s) => s.status)).toEqual([200, 304, 304]);
      expect(seen[0]!.ifNoneMatch).toBeNull();
      const etag = (await fetch(`${base}/.well-known/jwks.json`)).headers.get('etag');
      expect(seen[1]!.ifNoneMatch).toBe(etag);
      expect(keys.jwks()?.keys.map((k) => k.kid)).toEqual([key.kid]);
      await expect(keys({ alg: 'EdDSA', kid: key.kid! })).resolves.toBeDefined();
    } finally {
      await ctx.close();
    }
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
