import { TOKEN_TYPE } from '@tollgate/auth-client';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { generatePrivateJwk, keySetFromJwks } from './signing-keys.js';
import { createTokenIssuer } from './token-issuer.js';

describe('token issuer', () => {
  it('signs EdDSA JWTs that jose verifies with the published key, with the header and claims verifiers pin', async () => {
    const keys = await keySetFromJwks([await generatePrivateJwk()]);
    const issuer = createTokenIssuer({
      keys,
      issuer: 'tollgate-auth',
      audience: 'tollgate',
      serviceAudience: 'tollgate-services',
      accessTtlSeconds: 900,
      serviceTtlSeconds: 300,
      now: () => 1_800_000_000_000,
    });
    const access = await issuer.issueAccessToken({
      userId: 'u1',
      sessionId: 's1',
      email: 'a@example.com',
      login: 'alice',
      roles: ['premium'],
      ent: { v: 0, f: {} },
      emailVerified: false,
    });
    expect(decodeProtectedHeader(access.token)).toEqual({
      alg: 'EdDSA',
      kid: keys.current.kid,
      typ: TOKEN_TYPE,
    });
    const { payload } = await jwtVerify(access.token, keys.resolver, {
      algorithms: ['EdDSA'],
      typ: TOKEN_TYPE,
      issuer: 'tollgate-auth',
      audience: 'tollgate',
      currentDate: new Date(1_800_000_000_000),
    });
    expect(payload).toEqual({
      sid: 's1',
      email: 'a@example.com',
      email_verified: false,
      ent: { v: 0, f: {} },
      login: 'alice',
      roles: ['premium'],
      iss: 'tollgate-auth',
      aud: 'tollgate',
      sub: 'u1',
      jti: access.jti,
      iat: 1_800_000_000,
      exp: 1_800_000_900,
    });
    expect(access.expiresIn).toBe(900);

    const service = await issuer.issueServiceToken('billing', ['roles:write']);
    const verified = await jwtVerify(service.token, keys.resolver, {
      audience: 'tollgate-services',
      currentDate: new Date(1_800_000_000_000),
    });
    expect(verified.payload).toMatchObject({
      client_id: 'billing',
      scope: 'roles:write',
      exp: 1_800_000_300,
    });
  });

  it('makes a signature that fails verification once a byte of the payload changes', async () => {
    const keys = await keySetFromJwks([await generatePrivateJwk()]);
    const issuer = createTokenIssuer({
      keys,
      issuer: 'i',
      audience: 'a',
      serviceAudience: 's',
      accessTtlSeconds: 60,
      serviceTtlSeconds: 60,
    });
    const { token } = await issuer.issueServiceToken('billing', ['x']);
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(p!, 'base64url').toString().replace('"x"', '"y"');
    await expect(
      jwtVerify(`${h}.${Buffer.from(forged).toString('base64url')}.${s}`, keys.resolver),
    ).rejects.toThrow(/signature/);
  });
});
