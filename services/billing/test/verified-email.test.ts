/**
 * REQUIRE_VERIFIED_EMAIL: checkout only for users whose access token says
 * their email is verified (auth's email flows: services/auth/test/email.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASIC_MONTHLY, bearer, newUser, PASSWORD, type Stack, startStack, type TestUser } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ REQUIRE_VERIFIED_EMAIL: 'true' });
});
afterAll(async () => {
  await stack?.close();
});

const checkout = (user: TestUser) =>
  stack.app.inject({
    method: 'POST',
    url: '/api/v1/checkout',
    headers: bearer(user),
    payload: { price_id: BASIC_MONTHLY },
  });

describe('checkout with REQUIRE_VERIFIED_EMAIL', () => {
  it('is refused until the email is verified, then allowed with a token that says so', async () => {
    const user = await newUser(stack);
    const refused = await checkout(user);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'email_not_verified' });

    // What following the verification link does (auth's tests follow the real mail).
    await stack.auth.app.authContext.users.markEmailVerified(user.id, user.email);
    // The old token still says unverified: claims are as old as the token.
    expect((await checkout(user)).statusCode).toBe(403);

    const relogged = await stack.auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: user.login, password: PASSWORD },
    });
    const verified = { ...user, token: (relogged.json() as { access_token: string }).access_token };
    const allowed = await checkout(verified);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json()).toHaveProperty('checkout_session_url');
  });
});
