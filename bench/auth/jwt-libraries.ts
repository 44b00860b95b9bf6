/**
 * npm run bench:jwt-libraries
 *
 * The measurement behind decision 0003's "why jose, not @fastify/jwt":
 *  1. verify and sign of an EdDSA `at+jwt` access token with the checks
 *     tollgate pins (algorithm, typ, iss, aud, required claims), jose against
 *     fast-jwt (the engine of @fastify/jwt), no caches, interleaved rounds,
 *     median ops/s;
 *  2. whether get-jwks (the JWKS fetcher @fastify/jwt documents) can hand
 *     out an Ed25519 (OKP) key;
 *  3. how many JWKS fetches tokens with made-up `kid`s cause: get-jwks
 *     against jose's createRemoteJWKSet (the fetch is an amplifier an
 *     attacker can aim at auth from every verifying service);
 *  4. each verifier's answer to the forged tokens the token tests send.
 * Needs nothing but Node (a JWKS server on an ephemeral port).
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner, createVerifier } from 'fast-jwt';
import buildGetJwks from 'get-jwks';
import { createRemoteJWKSet, exportJWK, jwtVerify, SignJWT } from 'jose';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const OPS = Number(process.env.BENCH_OPS ?? 5000);
const ISSUER = 'tollgate-auth';
const AUDIENCE = 'tollgate';
const REQUIRED = ['sub', 'jti', 'iat', 'exp'];

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const iat = Math.floor(Date.now() / 1000);
const claims = { sid: randomUUID(), email: 'a@example.com', login: 'alice', roles: ['user'] };

function joseSign(kid = 'k1', overrides: { typ?: string; aud?: string; iat?: number; exp?: number } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: overrides.typ ?? 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(overrides.aud ?? AUDIENCE)
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuedAt(overrides.iat ?? iat)
    .setExpirationTime(overrides.exp ?? iat + 900)
    .sign(privateKey);
}
const fastSigner = createSigner({
  key: privatePem,
  algorithm: 'EdDSA',
  kid: 'k1',
  header: { alg: 'EdDSA', typ: 'at+jwt' },
  iss: ISSUER,
  aud: AUDIENCE,
  expiresIn: 900_000,
});
const joseVerify = (token: string) =>
  jwtVerify(token, publicKey, {
    algorithms: ['EdDSA'],
    typ: 'at+jwt',
    issuer: ISSUER,
    audience: AUDIENCE,
    clockTolerance: 5,
    requiredClaims: REQUIRED,
  });
const fastVerify = createVerifier({
  key: publicPem,
  algorithms: ['EdDSA'],
  checkTyp: 'at+jwt',
  allowedIss: ISSUER,
  allowedAud: AUDIENCE,
  clockTolerance: 5_000,
  requiredClaims: REQUIRED,
  cache: false,
});

async function opsPerSecond(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 500; i++) await fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) await fn();
  return OPS / (Number(process.hrtime.bigint() - started) / 1e9);
}

const token = await joseSign();
const cases: Record<string, () => unknown> = {
  'jose verify': () => joseVerify(token),
  'fast-jwt verify': () => fastVerify(token),
  'jose sign': () => joseSign(),
  'fast-jwt sign': () => fastSigner({ ...claims, sub: randomUUID(), jti: randomUUID() }),
};
const figures = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const [name, fn] of Object.entries(cases)) figures.get(name)!.push(await opsPerSecond(fn));
console.log(`1. ops/s, median of ${ROUNDS} interleaved rounds of ${OPS} (min-max):`);
for (const [name, xs] of figures) {
  xs.sort((a, b) => a - b);
  const median = xs[Math.floor(xs.length / 2)]!;
  console.log(
    `   ${name.padEnd(16)} ${median.toFixed(0).padStart(6)}  (${xs[0]!.toFixed(0)}-${xs.at(-1)!.toFixed(0)})`,
  );
}

const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
let fetches = 0;
const jwksServer = createServer((_request, response) => {
  fetches++;
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ keys: [jwk] }));
});
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
const getJwks = buildGetJwks({ jwksPath: '/.well-known/jwks.json', ttl: 600_000 });
const okp = await getJwks.getPublicKey({ domain: base, alg: 'EdDSA', kid: 'k1' }).then(
  () => 'converted',
  (error: Error) => `refused: ${error.message}`,
);
console.log(`2. get-jwks getPublicKey on the Ed25519 key: ${okp}`);

// get-jwks' getJwk plus Node's own JWK import is what @fastify/jwt would need.
async function viaGetJwks(t: string) {
  const header = JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string };
  const key = await getJwks.getJwk({ domain: base, alg: 'EdDSA', kid: header.kid });
  const pem = createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  return createVerifier({ key: pem, algorithms: ['EdDSA'] })(t);
}
const remote = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), { cooldownDuration: 5_000 });
const viaJose = (t: string) => jwtVerify(t, remote, { algorithms: ['EdDSA'] });
console.log('3. JWKS fetches caused by 200 tokens with made-up kids:');
for (const [name, verify] of [
  ['get-jwks', viaGetJwks],
  ['jose createRemoteJWKSet', viaJose],
] as const) {
  await verify(token); // the key of real tokens is cached first
  const before = fetches;
  for (let i = 0; i < 200; i++) await Promise.resolve(verify(await joseSign(`made-up-${i}`))).catch(() => {});
  console.log(`   ${name.padEnd(24)} ${fetches - before}`);
}
jwksServer.close();

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const body = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${b64(body)}`;
const forged: Record<string, string> = {
  'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(body)}.`,
  'HS256 keyed with the public key': `${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`,
  'typ JWT': await joseSign('k1', { typ: 'JWT' }),
  'other audience': await joseSign('k1', { aud: 'other' }),
  expired: await joseSign('k1', { iat: iat - 1000, exp: iat - 60 }),
};
console.log('4. forged tokens (both must refuse every one):');
for (const [name, t] of Object.entries(forged)) {
  const answer = (p: Promise<unknown>) =>
    p.then(
      () => 'ACCEPTED',
      (error: { code?: string }) => `refused (${error.code})`,
    );
  console.log(
    `   ${name.padEnd(32)} jose ${await answer(joseVerify(t))}; fast-jwt ${await answer(Promise.resolve().then(() => fastVerify(t)))}`,
  );
}
