import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearerToken,
  createMemoryRevocationStore,
  createTokenVerifier,
  isRedisUnavailableError,
  type RevocationStore,
  RevocationUnavailableError,
  tokenErrorProblem,
  withRevocationCache,
  withRevocationFallback,
} from '../src/index.js';

// An in-memory RevocationStore: the interface is this package's own seam;
// the Redis-backed store is exercised against real Redis in the auth tests.
function memoryRevocations(): RevocationStore & { revoked: Set<string>; floors: Map<string, number> } {
  const revoked = new Set<string>();
  const floors = new Map<string, number>();
  return {
    revoked,
    floors,
    async isSessionRevoked(id) {
      return revoked.has(id);
    },
    async revokeSessions(ids) {
      for (const id of ids) revoked.add(id);
    },
    async entitlementsFloor(userId) {
      return floors.get(userId) ?? 0;
    },
    async raiseEntitlementsFloor(userId, version) {
      floors.set(userId, Math.max(version, floors.get(userId) ?? 0));
    },
  };
}

let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let publicJwk: JWK;
beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
});

function verifierWith(revocation: RevocationStore = memoryRevocations()) {
  return createTokenVerifier({
    keys: createLocalJWKSet({ keys: [publicJwk] }),
    issuer: 'iss',
    audience: 'users',
    serviceAudience: 'services',
    revocation,
  });
}

const sign = (claims: Record<string, unknown>, aud: string) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
    .setIssuer('iss')
    .setAudience(aud)
    .setSubject('u1')
    .setJti('j1')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

describe('createTokenVerifier', () => {
  it('accepts a user token and refuses it once its session is revoked', async () => {
    const revocations = memoryRevocations();
    const verifier = verifierWith(revocations);
    const token = await sign({ sid: 's1', email: 'a@b.c', login: 'a', roles: ['x'] }, 'users');
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({
      sub: 'u1',
      sid: 's1',
      roles: ['x'],
    });
    revocations.revoked.add('s1');
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ code: 'token_revoked' });
  });

  it('refuses a token without the user claims as a user token', async () => {
    const token = await sign({ sid: 's1' }, 'users');
    await expect(verifierWith().verifyAccessToken(token)).rejects.toMatchObject({ code: 'token_invalid' });
  });

  it('checks service tokens for their audience and scope', async () => {
    const verifier = verifierWith();
    const token = await sign({ client_id: 'billing', scope: 'roles:write other' }, 'services');
    await expect(verifier.verifyServiceToken(token, 'roles:write')).resolves.toMatchObject({
      client_id: 'billing',
    });
    await expect(verifier.verifyServiceToken(token, 'roles:admin')).rejects.toMatchObject({
      code: 'insufficient_scope',
    });
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ code: 'token_invalid' });
    const userToken = await sign({ sid: 's', email: 'e', login: 'l', roles: [] }, 'users');
    await expect(verifier.verifyServiceToken(userToken)).rejects.toMatchObject({ code: 'token_invalid' });
  });

  it('refuses a token whose typ is not at+jwt', async () => {
    const token = await new SignJWT({ sid: 's1', email: 'a@b.c', login: 'a', roles: [] })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' })
      .setIssuer('iss')
      .setAudience('users')
      .setSubject('u1')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(verifierWith().verifyAccessToken(token)).rejects.toMatchObject({ code: 'token_invalid' });
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%s -> %s', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

describe('caches', () => {
  it('a cached token still expires on time', async () => {
    const verifier = verifierWith();
    const token = await new SignJWT({ sid: 's9', email: 'a@b.c', login: 'a', roles: [] })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
      .setIssuer('iss')
      .setAudience('users')
      .setSubject('u1')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) - 4) // inside the 5 s tolerance
      .sign(privateKey);
    await expect(verifier.verifyAccessToken(token)).resolves.toBeDefined();
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ code: 'token_expired' });
  });

  it('the revocation cache asks again after its ttl, and forgets at once what it revokes itself', async () => {
    const inner = memoryRevocations();
    let asked = 0;
    const counting: RevocationStore = {
      isSessionRevoked: async (id) => {
        asked++;
        return inner.isSessionRevoked(id);
      },
      revokeSessions: (ids, ttl) => inner.revokeSessions(ids, ttl),
      entitlementsFloor: (userId) => inner.entitlementsFloor(userId),
      raiseEntitlementsFloor: (userId, version, ttl) => inner.raiseEntitlementsFloor(userId, version, ttl),
    };
    const cached = withRevocationCache(counting, 100);
    expect(await cached.isSessionRevoked('a')).toBe(false);
    expect(await cached.isSessionRevoked('a')).toBe(false);
    expect(asked).toBe(1);
    inner.revoked.add('a'); // revoked elsewhere
    expect(await cached.isSessionRevoked('a')).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect(await cached.isSessionRevoked('a')).toBe(true);

    expect(await cached.isSessionRevoked('b')).toBe(false);
    await cached.revokeSessions(['b'], 60);
    expect(await cached.isSessionRevoked('b')).toBe(true);
  });
});

describe('createMemoryRevocationStore', () => {
  it('cannot tell "not revoked" until it has been restored, like an emptied Redis', async () => {
    const store = createMemoryRevocationStore();
    await store.revokeSessions(['s'], 10);
    expect(await store.isSessionRevoked('s')).toBe(true);
    await expect(store.isSessionRevoked('other')).rejects.toBeInstanceOf(RevocationUnavailableError);
    expect(await store.isComplete()).toBe(false);
    expect(await store.restore([{ sessionId: 'old', ttlSeconds: 60 }])).toBe(true);
    expect(await store.isComplete()).toBe(true);
    expect(await store.isSessionRevoked('old')).toBe(true);
    expect(await store.isSessionRevoked('other')).toBe(false);
  });

  it('remembers revocations until their ttl runs out', async () => {
    let clock = 1_000_000;
    const store = createMemoryRevocationStore(() => clock);
    await store.restore([]);
    expect(await store.isSessionRevoked('s')).toBe(false);
    await store.revokeSessions(['s'], 10);
    expect(await store.isSessionRevoked('s')).toBe(true);
    clock += 10_001;
    expect(await store.isSessionRevoked('s')).toBe(false);
  });
});

describe('when revocations cannot be checked', () => {
  const unavailable: RevocationStore = {
    async isSessionRevoked() {
      throw new RevocationUnavailableError('down', 2);
    },
    async revokeSessions() {
      throw new RevocationUnavailableError('down', 2);
    },
    async entitlementsFloor() {
      throw new RevocationUnavailableError('down', 2);
    },
    async raiseEntitlementsFloor() {
      throw new RevocationUnavailableError('down', 2);
    },
  };

  it('a verifier refuses the token with revocation_unavailable, a 503 with Retry-After', async () => {
    const token = await sign({ sid: 's1', email: 'a@b.c', login: 'a', roles: [] }, 'users');
    const error = await verifierWith(unavailable)
      .verifyAccessToken(token)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'revocation_unavailable' });
    const problem = tokenErrorProblem(error);
    expect(problem?.status).toBe(503);
    expect(problem?.headers['retry-after']).toBe('2');
  });

  it('withRevocationFallback asks the authority instead, and only then', async () => {
    const asked: string[] = [];
    const authority = {
      isSessionEnded: async (sid: string) => {
        asked.push(sid);
        return sid === 'ended';
      },
      entitlementsFloor: async (userId: string) => {
        asked.push(`floor:${userId}`);
        return userId === 'shrunk' ? 4 : 0;
      },
    };
    const viaAuthority = withRevocationFallback(unavailable, authority);
    expect(await viaAuthority.isSessionRevoked('ended')).toBe(true);
    expect(await viaAuthority.isSessionRevoked('open')).toBe(false);
    const healthy = memoryRevocations();
    healthy.revoked.add('x');
    expect(await withRevocationFallback(healthy, authority).isSessionRevoked('x')).toBe(true);
    expect(await viaAuthority.entitlementsFloor('shrunk')).toBe(4);
    expect(await withRevocationFallback(healthy, authority).entitlementsFloor('shrunk')).toBe(0);
    expect(asked).toEqual(['ended', 'open', 'floor:shrunk']);
  });
});

describe('isRedisUnavailableError', () => {
  it('recognises an unreachable or unable Redis, and nothing else', () => {
    const named = (name: string, message: string, code?: string) =>
      Object.assign(new Error(message), { name, ...(code ? { code } : {}) });
    expect(isRedisUnavailableError(new Error('Command timed out'))).toBe(true);
    expect(
      isRedisUnavailableError(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBe(true);
    expect(
      isRedisUnavailableError(named('Error', 'connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED')),
    ).toBe(true);
    expect(
      isRedisUnavailableError(
        named('BrokenCircuitError', 'Execution prevented because the circuit breaker is open'),
      ),
    ).toBe(true);
    expect(
      isRedisUnavailableError(named('ReplyError', "OOM command not allowed when used memory > 'maxmemory'.")),
    ).toBe(true);
    expect(isRedisUnavailableError(named('ReplyError', 'ERR wrong number of arguments'))).toBe(false);
    expect(isRedisUnavailableError(new Error('something else'))).toBe(false);
    expect(isRedisUnavailableError(undefined)).toBe(false);
  });
});

describe('entitlement floors', () => {
  const user = { sid: 's1', email: 'a@b.c', login: 'a', roles: [] };

  it('refuses a token whose ent version is below the user’s floor with entitlements_changed (401), and accepts a newer one', async () => {
    const revocations = memoryRevocations();
    const verifier = verifierWith(revocations);
    const old = await sign({ ...user, ent: { v: 3, f: { hd: true } } }, 'users');
    const legacy = await sign(user, 'users'); // issued before entitlements: version 0
    await expect(verifier.verifyAccessToken(old)).resolves.toMatchObject({ ent: { v: 3 } });
    await expect(verifier.verifyAccessToken(legacy)).resolves.toBeDefined();

    revocations.floors.set('u1', 4);
    const error = await verifier.verifyAccessToken(old).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'entitlements_changed' });
    const problem = tokenErrorProblem(error);
    expect(problem).toMatchObject({ status: 401, code: 'entitlements_changed' });
    expect(problem?.headers['www-authenticate']).toContain('invalid_token');
    await expect(verifier.verifyAccessToken(legacy)).rejects.toMatchObject({ code: 'entitlements_changed' });

    const refreshed = await sign({ ...user, ent: { v: 4, f: {} } }, 'users');
    await expect(verifier.verifyAccessToken(refreshed)).resolves.toMatchObject({ ent: { v: 4, f: {} } });
  });

  it('refuses a malformed ent claim as an invalid token', async () => {
    const verifier = verifierWith();
    for (const ent of [{ v: '3', f: {} }, { v: 1 }, { v: -1, f: {} }, { v: 1, f: [] }, 'x']) {
      const token = await sign({ ...user, ent }, 'users');
      await expect(verifier.verifyAccessToken(token)).rejects.toMatchObject({ code: 'token_invalid' });
    }
  });

  it('the memory store only raises a floor, keeps it for its ttl, and cannot tell before a restore', async () => {
    let clock = 1_000_000;
    const store = createMemoryRevocationStore(() => clock);
    await expect(store.entitlementsFloor('u')).rejects.toBeInstanceOf(RevocationUnavailableError);
    expect(await store.restore([], [{ userId: 'u', version: 5, ttlSeconds: 10 }])).toBe(true);
    expect(await store.entitlementsFloor('u')).toBe(5);
    await store.raiseEntitlementsFloor('u', 3, 100);
    expect(await store.entitlementsFloor('u')).toBe(5);
    await store.raiseEntitlementsFloor('u', 7, 10);
    expect(await store.entitlementsFloor('u')).toBe(7);
    clock += 10_001;
    expect(await store.entitlementsFloor('u')).toBe(0);
    expect(await store.entitlementsFloor('other')).toBe(0);
  });

  it('the cache remembers a floor for its ttl and forgets at once one raised through it', async () => {
    const inner = memoryRevocations();
    const cached = withRevocationCache(inner, 100);
    expect(await cached.entitlementsFloor('u')).toBe(0);
    inner.floors.set('u', 2); // raised elsewhere
    expect(await cached.entitlementsFloor('u')).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(await cached.entitlementsFloor('u')).toBe(2);
    await cached.raiseEntitlementsFloor('u', 3, 60);
    expect(await cached.entitlementsFloor('u')).toBe(3);
  });
});
