import { createHmac, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createRedisRevocationStore, createTokenVerifier, TokenError } from '@tollgate/auth-client';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, login, registerAndLogin, startApp, type TestContext } from './helpers.js';

let ctx: TestContext;
let baseUrl: string;
let redis: Redis;
beforeAll(async () => {
  ctx = await startApp();
  // Listen for real: verifiers fetch the JWKS over HTTP as other services do.
  baseUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  redis = new Redis(ctx.config.redisUrl, { keyPrefix: ctx.config.redisKeyPrefix });
});
afterAll(async () => {
  redis.disconnect();
  await ctx.close();
});

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

function remoteVerifier() {
  return createTokenVerifier({
    jwksUrl: `${baseUrl}/.well-known/jwks.json`,
    issuer: ctx.config.jwt.issuer,
    audience: ctx.config.jwt.audience,
    serviceAudience: ctx.config.jwt.serviceAudience,
    revocation: createRedisRevocationStore(redis),
  });
}

describe('access tokens', () => {
  it('carry the claims DESIGN.md lists and verify against the published JWKS with plain node:crypto', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const claims = decode(tokens.access_token);
    expect(claims).toMatchObject({
      iss: 'tollgate-auth',
      aud: 'tollgate',
      sub: user.id,
      email: user.email,
      login: user.login,
      roles: [],
    });
    for (const claim of ['sid', 'jti', 'iat', 'exp']) expect(claims).toHaveProperty(claim);
    expect(claims.exp - claims.iat).toBe(900);

    // An independent verifier: no JOSE library, only the JWKS document and node:crypto.
    const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    const [headerPart, payloadPart, signaturePart] = tokens.access_token.split('.') as [
      string,
      string,
      string,
    ];
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString());
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    expect(jwk).toBeDefined();
    expect(jwk).not.toHaveProperty('d');
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    const ok = cryptoVerify(
      null,
      Buffer.from(`${headerPart}.${payloadPart}`),
      publicKey,
      Buffer.from(signaturePart, 'base64url'),
    );
    expect(ok).toBe(true);
  });

  it('verify through @tollgate/auth-client from the JWKS URL', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const claims = await remoteVerifier().verifyAccessToken(tokens.access_token);
    expect(claims.sub).toBe(user.id);
  });

  describe('refusals', () => {
    let token: string;
    beforeAll(async () => {
      token = (await registerAndLogin(ctx.app)).tokens.access_token;
    });

    async function refusedWith(forged: string, code: string) {
      await expect(remoteVerifier().verifyAccessToken(forged)).rejects.toMatchObject({ code });
      const response = await ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(forged) });
      expectProblem(response, 401, code);
    }

    it('alg: none', async () => {
      const payload = token.split('.')[1];
      await refusedWith(`${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`, 'token_invalid');
    });

    it('HS256 signed with the public key', async () => {
      const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: object[] };
      const pem = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: decode(`x.${token.split('.')[0]}`).kid });
      const payload = token.split('.')[1];
      for (const secret of [pem, JSON.stringify(jwks.keys[0])]) {
        const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
        await refusedWith(`${header}.${payload}.${signature}`, 'token_invalid');
      }
    });

    it('a tampered payload', async () => {
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      await refusedWith(`${header}.${b64({ ...claims, roles: ['admin'] })}.${signature}`, 'token_invalid');
    });

    async function signed(
      claims: Record<string, unknown>,
      audience: string,
      issuer: string,
      expiresAt: number,
    ) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', kid: ctx.keys.current.kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(decode(token).sub)
        .setJti('j')
        .setIssuedAt(expiresAt - 900)
        .setExpirationTime(expiresAt)
        .sign(ctx.keys.current.key);
    }

    const base = () => {
      const c = decode(token);
      return { sid: c.sid, email: c.email, login: c.login, roles: c.roles };
    };
    const soon = () => Math.floor(Date.now() / 1000) + 600;

    it('a wrong audience', async () => {
      await refusedWith(await signed(base(), 'someone-else', 'tollgate-auth', soon()), 'token_invalid');
    });

    it('a wrong issuer', async () => {
      await refusedWith(await signed(base(), 'tollgate', 'evil-issuer', soon()), 'token_invalid');
    });

    it('an expired token', async () => {
      await refusedWith(
        await signed(base(), 'tollgate', 'tollgate-auth', Math.floor(Date.now() / 1000) - 60),
        'token_expired',
      );
    });

    it('a service token used as a user token', async () => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        payload: {
          grant_type: 'client_credentials',
          client_id: 'billing',
          client_secret: 'billing-test-secret-0123456789',
        },
      });
      await refusedWith(response.json().access_token, 'token_invalid');
    });

    it('no token, or not a bearer token', async () => {
      expectProblem(
        await ctx.app.inject({ method: 'GET', url: '/v1/auth/me' }),
        401,
        'authentication_required',
      );
      expectProblem(
        await ctx.app.inject({
          method: 'GET',
          url: '/v1/auth/me',
          headers: { authorization: `Basic ${token}` },
        }),
        401,
        'authentication_required',
      );
    });
  });
});

describe('refresh tokens', () => {
  it('rotate: each refresh returns a new pair and the old refresh token stops working', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const first = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: tokens.refresh_token },
    });
    expect(first.statusCode).toBe(200);
    const next = first.json();
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(decode(next.access_token).sid).toBe(decode(tokens.access_token).sid);
    const second = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: next.refresh_token },
    });
    expect(second.statusCode).toBe(200);
  });

  it('reuse of a refresh token ends its whole session, including access tokens and the newest refresh token', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const rotated = (
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: tokens.refresh_token },
      })
    ).json();
    const reuse = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: tokens.refresh_token },
    });
    expectProblem(reuse, 401, 'refresh_token_reused');
    const newest = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: rotated.refresh_token },
    });
    expectProblem(newest, 401, 'refresh_token_invalid');
    for (const access of [tokens.access_token, rotated.access_token]) {
      const me = await ctx.app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(access) });
      expectProblem(me, 401, 'token_revoked');
    }
  });

  it('two concurrent uses of one refresh token: one wins, the other is treated as reuse', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        ctx.app.inject({
          method: 'POST',
          url: '/v1/auth/refresh-token',
          payload: { refresh_token: tokens.refresh_token },
        }),
      ),
    );
    expect([a!.statusCode, b!.statusCode].sort()).toEqual([200, 401]);
  });

  it('an unknown refresh token is 401 refresh_token_invalid', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: 'nope' },
    });
    expectProblem(response, 401, 'refresh_token_invalid');
  });

  it('keeps the session absolute end: a refresh does not extend it', async () => {
    const short = await startApp({ REFRESH_TOKEN_TTL_SECONDS: '2' }, ctx.keys);
    try {
      const { tokens } = await registerAndLogin(short.app);
      const r1 = await short.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: tokens.refresh_token },
      });
      expect(r1.statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 2_100));
      const r2 = await short.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh-token',
        payload: { refresh_token: r1.json().refresh_token },
      });
      expectProblem(r2, 401, 'refresh_token_invalid');
    } finally {
      await short.close();
    }
  });
});

describe('logout and sessions', () => {
  it('logout ends this session: its tokens fail at another service within 1 s, other sessions live on', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const other = (await login(ctx.app, user.login)).json();
    const verifier = remoteVerifier();
    await verifier.verifyAccessToken(tokens.access_token);

    const logout = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: bearer(tokens.access_token),
    });
    expect(logout.statusCode).toBe(204);
    const loggedOutAt = Date.now();
    let refusedAt: number | undefined;
    while (Date.now() - loggedOutAt < 1_000) {
      try {
        await verifier.verifyAccessToken(tokens.access_token);
      } catch (error) {
        expect(error).toBeInstanceOf(TokenError);
        expect((error as TokenError).code).toBe('token_revoked');
        refusedAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(refusedAt).toBeDefined();
    expect(refusedAt! - loggedOutAt).toBeLessThan(1_000);

    const refresh = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh-token',
      payload: { refresh_token: tokens.refresh_token },
    });
    expectProblem(refresh, 401, 'refresh_token_invalid');
    await expect(verifier.verifyAccessToken(other.access_token)).resolves.toMatchObject({ sub: user.id });
  });

  it('logout-all ends every session of the user', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const other = (await login(ctx.app, user.login)).json();
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/auth/logout-all',
      headers: bearer(tokens.access_token),
    });
    expect(response.statusCode).toBe(204);
    for (const access of [tokens.access_token, other.access_token]) {
      await expect(remoteVerifier().verifyAccessToken(access)).rejects.toMatchObject({
        code: 'token_revoked',
      });
    }
  });

  it('lists open sessions and revokes one by id; another user cannot revoke it', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const second = (
      await ctx.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { login: user.login, password: 'plausible tangerine 42' },
        headers: { 'user-agent': 'second-device' },
      })
    ).json();
    const list = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/sessions',
      headers: bearer(tokens.access_token),
    });
    expect(list.statusCode).toBe(200);
    const sessions = list.json().data as { id: string; current: boolean; user_agent: string | null }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const secondId = decode(second.access_token).sid;
    expect(sessions.find((s) => s.id === secondId)?.user_agent).toBe('second-device');
    expect(list.json().has_more).toBe(false);
    // One page at a time: the most recently used first, has_more when others are open.
    const page = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/sessions?limit=1',
      headers: bearer(tokens.access_token),
    });
    expect(page.statusCode).toBe(200);
    expect(page.json().data).toHaveLength(1);
    expect(page.json().has_more).toBe(true);
    expect(page.json().data[0].id).toBe(sessions[0]!.id);
    const tooMany = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/sessions?limit=100000',
      headers: bearer(tokens.access_token),
    });
    expect(tooMany.statusCode).toBe(400);

    const stranger = await registerAndLogin(ctx.app);
    const foreign = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${secondId}`,
      headers: bearer(stranger.tokens.access_token),
    });
    expectProblem(foreign, 404, 'session_not_found');

    const revoke = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${secondId}`,
      headers: bearer(tokens.access_token),
    });
    expect(revoke.statusCode).toBe(204);
    await expect(remoteVerifier().verifyAccessToken(second.access_token)).rejects.toMatchObject({
      code: 'token_revoked',
    });
    const after = await ctx.app.inject({
      method: 'GET',
      url: '/v1/auth/sessions',
      headers: bearer(tokens.access_token),
    });
    expect(after.json().data).toHaveLength(1);
    const again = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${secondId}`,
      headers: bearer(tokens.access_token),
    });
    expectProblem(again, 404, 'session_not_found');
    const malformed = await ctx.app.inject({
      method: 'DELETE',
      url: '/v1/auth/sessions/not-a-uuid',
      headers: bearer(tokens.access_token),
    });
    expectProblem(malformed, 400, 'validation_failed');
  });
});
