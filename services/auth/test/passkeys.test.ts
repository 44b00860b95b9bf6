/**
 * Passkeys through the API, for what can go wrong: challenges that are
 * unknown, replayed, another user's or another step's; a response from
 * another origin; someone else's passkey renamed or deleted; the MFA ticket
 * path. The whole ceremony with a real authenticator is exercised in
 * Chromium (e2e/test/passkeys.test.ts): no well-kept Node library produces
 * WebAuthn responses, so the passkeys these tests need for listing and the
 * MFA step are stored rows, as a registration would leave them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '../src/db/prisma.js';
import { bearer, expectProblem, login, registerAndLogin, startApp, type TestContext } from './helpers.js';

let ctx: TestContext;
let db: Db;

beforeAll(async () => {
  ctx = await startApp({ WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:8080' });
  db = createPrismaClient(ctx.config.databaseUrl);
});
afterAll(async () => {
  await db?.$disconnect();
  await ctx?.close();
});

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const post = (url: string, payload: object, token?: string) =>
  ctx.app.inject({ method: 'POST', url, payload, ...(token ? { headers: bearer(token) } : {}) });

/** A registration response whose clientDataJSON names `challenge`; its attestation is junk. */
function registrationResponse(challenge: string, origin = 'http://localhost:8080') {
  const id = b64(randomBytes(16));
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b64(JSON.stringify({ type: 'webauthn.create', challenge, origin, crossOrigin: false })),
      attestationObject: b64(randomBytes(64)),
      transports: ['internal'],
    },
    clientExtensionResults: {},
  };
}

function assertionResponse(challenge: string, credentialId = b64(randomBytes(16))) {
  return {
    id: credentialId,
    rawId: credentialId,
    type: 'public-key',
    response: {
      clientDataJSON: b64(
        JSON.stringify({
          type: 'webauthn.get',
          challenge,
          origin: 'http://localhost:8080',
          crossOrigin: false,
        }),
      ),
      authenticatorData: b64(randomBytes(37)),
      signature: b64(randomBytes(64)),
    },
    clientExtensionResults: {},
  };
}

async function registrationChallenge(token: string): Promise<string> {
  const response = await post('/v1/auth/mfa/passkeys/registration/options', {}, token);
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { challenge: string }).challenge;
}

/** A passkey row as a verified registration stores it. */
async function storedPasskey(userId: string, name = 'Laptop') {
  const credentialId = b64(randomBytes(16));
  const id = randomUUID();
  await db.passkey.create({
    data: {
      id,
      userId,
      credentialId,
      publicKey: randomBytes(77),
      transports: ['internal'],
      name,
      deviceType: 'singleDevice',
      backedUp: false,
    },
  });
  return { id, credentialId };
}

describe('passkey registration', () => {
  it('answers creation options for a discoverable credential with user verification on the configured RP', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const response = await post('/v1/auth/mfa/passkeys/registration/options', {}, tokens.access_token);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const options = response.json() as {
      rp: { id: string; name: string };
      user: { id: string; name: string };
      authenticatorSelection: { residentKey: string; userVerification: string };
    };
    expect(options.rp).toEqual({ id: 'localhost', name: 'tollgate' });
    expect(options.user.name).toBe(user.login);
    expect(Buffer.from(options.user.id, 'base64url').toString()).toBe(user.id);
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
  });

  it('needs a logged-in user', async () => {
    expectProblem(
      await post('/v1/auth/mfa/passkeys/registration/options', {}),
      401,
      'authentication_required',
    );
  });

  it('refuses a challenge it never handed out', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const response = await post(
      '/v1/auth/mfa/passkeys',
      { response: registrationResponse(b64(randomBytes(32))) },
      tokens.access_token,
    );
    expectProblem(response, 400, 'passkey_challenge_invalid');
  });

  it('takes a challenge once: a replay is refused even though the first try failed', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const challenge = await registrationChallenge(tokens.access_token);
    const first = await post(
      '/v1/auth/mfa/passkeys',
      { response: registrationResponse(challenge) },
      tokens.access_token,
    );
    expectProblem(first, 401, 'passkey_invalid');
    const replay = await post(
      '/v1/auth/mfa/passkeys',
      { response: registrationResponse(challenge) },
      tokens.access_token,
    );
    expectProblem(replay, 400, 'passkey_challenge_invalid');
  });

  it('refuses a response from another origin', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const challenge = await registrationChallenge(tokens.access_token);
    const response = await post(
      '/v1/auth/mfa/passkeys',
      { response: registrationResponse(challenge, 'https://evil.example') },
      tokens.access_token,
    );
    const body = expectProblem(response, 401, 'passkey_invalid') as { detail?: string };
    expect(body.detail).toMatch(/origin/i);
  });

  it("refuses another user's challenge", async () => {
    const alice = await registerAndLogin(ctx.app);
    const bob = await registerAndLogin(ctx.app);
    const challenge = await registrationChallenge(alice.tokens.access_token);
    const response = await post(
      '/v1/auth/mfa/passkeys',
      { response: registrationResponse(challenge) },
      bob.tokens.access_token,
    );
    expectProblem(response, 400, 'passkey_challenge_invalid');
  });

  it('does not take a registration challenge for a sign-in', async () => {
    const { tokens } = await registerAndLogin(ctx.app);
    const challenge = await registrationChallenge(tokens.access_token);
    expectProblem(
      await post('/v1/auth/login/passkey', { response: assertionResponse(challenge) }),
      400,
      'passkey_challenge_invalid',
    );
  });
});

describe('passkey sign-in', () => {
  it('answers usernameless options: no allowed credentials, user verification required', async () => {
    const response = await post('/v1/auth/login/passkey/options', {});
    expect(response.statusCode, response.body).toBe(200);
    const options = response.json() as {
      rpId: string;
      allowCredentials?: unknown[];
      userVerification: string;
    };
    expect(options.rpId).toBe('localhost');
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('required');
  });

  it('refuses an unknown challenge, then a passkey not registered here, then the replayed challenge', async () => {
    expectProblem(
      await post('/v1/auth/login/passkey', { response: assertionResponse(b64(randomBytes(32))) }),
      400,
      'passkey_challenge_invalid',
    );
    const options = (await post('/v1/auth/login/passkey/options', {})).json() as { challenge: string };
    expectProblem(
      await post('/v1/auth/login/passkey', { response: assertionResponse(options.challenge) }),
      401,
      'passkey_invalid',
    );
    expectProblem(
      await post('/v1/auth/login/passkey', { response: assertionResponse(options.challenge) }),
      400,
      'passkey_challenge_invalid',
    );
  });
});

describe('passkey as a second factor', () => {
  it('makes a password login answer mfa_required naming passkey, with options for that account only', async () => {
    const { user } = await registerAndLogin(ctx.app);
    const passkey = await storedPasskey(user.id);
    const first = await login(ctx.app, user.login);
    const problem = expectProblem(first, 401, 'mfa_required') as { mfa_ticket: string; methods: string[] };
    expect(problem.methods).toEqual(['passkey']);

    const options = await post('/v1/auth/login/passkey/options', { ticket: problem.mfa_ticket });
    expect(options.statusCode, options.body).toBe(200);
    const { challenge, allowCredentials } = options.json() as {
      challenge: string;
      allowCredentials: { id: string }[];
    };
    expect(allowCredentials.map((c) => c.id)).toEqual([passkey.credentialId]);

    // A forged signature over the right challenge does not pass, and is a failed login in the history.
    const forged = await post('/v1/auth/login/passkey', {
      ticket: problem.mfa_ticket,
      response: assertionResponse(challenge, passkey.credentialId),
    });
    expectProblem(forged, 401, 'passkey_invalid');
    const failures = await db.loginAttempt.findMany({ where: { userId: user.id, success: false } });
    expect(failures.map((f) => f.reason)).toContain('wrong_passkey');
  });

  it('refuses options for a ticket that is not live', async () => {
    expectProblem(
      await post('/v1/auth/login/passkey/options', { ticket: b64(randomBytes(32)) }),
      401,
      'mfa_ticket_invalid',
    );
  });

  it("refuses a usernameless challenge in place of the ticket's", async () => {
    const { user } = await registerAndLogin(ctx.app);
    const passkey = await storedPasskey(user.id);
    const problem = expectProblem(await login(ctx.app, user.login), 401, 'mfa_required') as {
      mfa_ticket: string;
    };
    const usernameless = (await post('/v1/auth/login/passkey/options', {})).json() as { challenge: string };
    expectProblem(
      await post('/v1/auth/login/passkey', {
        ticket: problem.mfa_ticket,
        response: assertionResponse(usernameless.challenge, passkey.credentialId),
      }),
      400,
      'passkey_challenge_invalid',
    );
  });
});

describe('listing, renaming and deleting passkeys', () => {
  it('lists, renames and deletes your own passkeys', async () => {
    const { user, tokens } = await registerAndLogin(ctx.app);
    const passkey = await storedPasskey(user.id, 'Laptop');
    const headers = bearer(tokens.access_token);
    const listed = await ctx.app.inject({ method: 'GET', url: '/v1/auth/mfa/passkeys', headers });
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as { passkeys: { id: string; name: string }[] }).passkeys).toMatchObject([
      { id: passkey.id, name: 'Laptop', device_type: 'singleDevice', backed_up: false, last_used_at: null },
    ]);

    const renamed = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/auth/mfa/passkeys/${passkey.id}`,
      headers,
      payload: { name: 'Work laptop' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect((renamed.json() as { name: string }).name).toBe('Work laptop');

    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/auth/mfa/passkeys/${passkey.id}`,
      headers,
    });
    expect(deleted.statusCode).toBe(204);
    const after = await ctx.app.inject({ method: 'GET', url: '/v1/auth/mfa/passkeys', headers });
    expect((after.json() as { passkeys: unknown[] }).passkeys).toEqual([]);
  });

  it("neither renames nor deletes someone else's passkey", async () => {
    const alice = await registerAndLogin(ctx.app);
    const mallory = await registerAndLogin(ctx.app);
    const passkey = await storedPasskey(alice.user.id, 'Phone');
    const headers = bearer(mallory.tokens.access_token);
    expectProblem(
      await ctx.app.inject({
        method: 'PATCH',
        url: `/v1/auth/mfa/passkeys/${passkey.id}`,
        headers,
        payload: { name: 'mine now' },
      }),
      404,
      'passkey_not_found',
    );
    expectProblem(
      await ctx.app.inject({ method: 'DELETE', url: `/v1/auth/mfa/passkeys/${passkey.id}`, headers }),
      404,
      'passkey_not_found',
    );
    const row = await db.passkey.findUnique({ where: { id: passkey.id } });
    expect(row?.name).toBe('Phone');
  });
});
