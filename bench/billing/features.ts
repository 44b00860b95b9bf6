/**
 * npm run bench:billing-features (also printed by npm run bench:billing)
 *
 * What a resource service pays per request to gate a route on a feature
 * with @tollgate/auth-client, no network involved:
 *  1. `requireFeature('x')` on an already verified token's claims (the
 *     preHandler itself; goal < 5 µs);
 *  2. `limitOf('x')`;
 *  3. the whole local path of a repeat request: `verifyAccessToken` of a
 *     token seen before (verified-token cache, revocation and entitlement
 *     floor answered by the 500 ms in-process cache) + `requireFeature`.
 */
import { pathToFileURL } from 'node:url';
import {
  createMemoryRevocationStore,
  createTokenVerifier,
  limitOf,
  requireFeature,
  withRevocationCache,
} from '@tollgate/auth-client';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';

const ITERATIONS = Number(process.env.BENCH_FEATURE_ITERATIONS ?? 1_000_000);

async function timePerCall(iterations: number, call: () => unknown | Promise<unknown>): Promise<number> {
  // Warm up (JIT) before timing.
  for (let i = 0; i < Math.min(10_000, iterations); i++) await call();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await call();
  return Number(process.hrtime.bigint() - started) / iterations; // ns per call
}

export interface FeatureFigures {
  requireFeatureNs: number;
  limitOfNs: number;
  verifyAndRequireNs: number;
}

export async function measureFeatureChecks(iterations = ITERATIONS): Promise<FeatureFigures> {
  const features = Object.fromEntries(
    Array.from({ length: 20 }, (_, i) => [`feature_${i}`, i % 2 ? true : i]),
  );
  const claims = { ent: { v: 7, f: { ...features, hd: true as const, projects: 10 } } };
  const request = { user: claims };
  const check = requireFeature('hd');
  const requireFeatureNs = await timePerCall(iterations, () => check(request));
  let sink = 0;
  const limitOfNs = await timePerCall(iterations, () => {
    sink += Number(limitOf(claims, 'projects'));
  });
  if (sink === 0) throw new Error('limitOf returned nothing');

  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' };
  const store = createMemoryRevocationStore();
  await store.restore([]);
  const verifier = createTokenVerifier({
    keys: createLocalJWKSet({ keys: [jwk] }),
    issuer: 'tollgate-auth',
    audience: 'tollgate',
    revocation: withRevocationCache(store, 500),
  });
  const token = await new SignJWT({ sid: 's1', email: 'a@example.com', login: 'a', roles: [], ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'at+jwt' })
    .setIssuer('tollgate-auth')
    .setAudience('tollgate')
    .setSubject('u1')
    .setJti('j1')
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(privateKey);
  const verifyAndRequireNs = await timePerCall(Math.min(iterations, 200_000), async () => {
    const user = await verifier.verifyAccessToken(token);
    await check({ user });
  });
  return { requireFeatureNs, limitOfNs, verifyAndRequireNs };
}

export function featureRows(f: FeatureFigures): [string, string, string][] {
  const us = (ns: number) => `${(ns / 1000).toFixed(3)} µs`;
  return [
    ["requireFeature('hd') on verified claims", us(f.requireFeatureNs), 'per check (goal < 5 µs)'],
    ["limitOf('projects')", us(f.limitOfNs), 'per call'],
    ['verify (repeat token) + requireFeature', us(f.verifyAndRequireNs), 'per request, no network'],
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await measureFeatureChecks();
  for (const [a, b, c] of featureRows(figures)) console.log(`${a.padEnd(42)} ${b.padStart(14)}  ${c}`);
}
