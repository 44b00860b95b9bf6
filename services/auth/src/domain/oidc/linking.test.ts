import { describe, expect, it } from 'vitest';
import { decideLink, loginCandidate } from './linking.js';

const verified = { email: 'ann@example.com', emailVerified: true };
const unverified = { email: 'ann@example.com', emailVerified: false };

describe('decideLink', () => {
  it('logs in as the linked account whatever the email says', () => {
    expect(
      decideLink({
        linkedUserId: 'u1',
        asserted: unverified,
        accountWithEmail: { id: 'u2', emailVerified: true },
      }),
    ).toEqual({ kind: 'linked', userId: 'u1' });
  });

  it('links to the account with the same email only when both sides are verified', () => {
    expect(
      decideLink({
        linkedUserId: null,
        asserted: verified,
        accountWithEmail: { id: 'u2', emailVerified: true },
      }),
    ).toEqual({ kind: 'link_by_email', userId: 'u2' });
    expect(
      decideLink({
        linkedUserId: null,
        asserted: unverified,
        accountWithEmail: { id: 'u2', emailVerified: true },
      }),
    ).toEqual({ kind: 'refuse_unverified' });
    expect(
      decideLink({
        linkedUserId: null,
        asserted: verified,
        accountWithEmail: { id: 'u2', emailVerified: false },
      }),
    ).toEqual({ kind: 'refuse_unverified' });
  });

  it('creates an account when no account has the email', () => {
    expect(decideLink({ linkedUserId: null, asserted: unverified, accountWithEmail: null })).toEqual({
      kind: 'create',
    });
  });
});

describe('loginCandidate', () => {
  it('takes the usable part of the email, or "user"', () => {
    expect(loginCandidate('Ann.Lee+x@example.com')).toBe('ann.leex');
    expect(loginCandidate('__a@example.com')).toBe('user');
    expect(loginCandidate(undefined, 'ab12')).toBe('user-ab12');
  });
});
