/**
 * Who a provider identity logs in as (architecture/decisions/0024-social-login.md):
 * the account it is linked to; else the account with the same email, only
 * when the provider asserts that email verified (and the account's own email
 * is verified, when auth knows that); else a new account.
 */
export interface AssertedIdentity {
  email?: string;
  /** The provider's `email_verified` claim; anything but `true` counts as unverified. */
  emailVerified: boolean;
}

export type LinkDecision =
  | { kind: 'linked'; userId: string }
  | { kind: 'link_by_email'; userId: string }
  | { kind: 'create' }
  | { kind: 'refuse_unverified' };

export function decideLink(input: {
  linkedUserId: string | null;
  asserted: AssertedIdentity;
  /** The account whose email equals the asserted one, if any, and whether its own email is verified. */
  accountWithEmail: { id: string; emailVerified: boolean } | null;
}): LinkDecision {
  if (input.linkedUserId) return { kind: 'linked', userId: input.linkedUserId };
  const account = input.accountWithEmail;
  if (!account) return { kind: 'create' };
  // Linking on an unverified email would let whoever controls the provider
  // account (not the mailbox) take over the tollgate account.
  if (input.asserted.emailVerified && account.emailVerified)
    return { kind: 'link_by_email', userId: account.id };
  return { kind: 'refuse_unverified' };
}

const LOGIN_CHARS = /[^a-z0-9._-]/g;

/** A login for a new account: the email's local part when usable, else "user"; a suffix is added when taken. */
export function loginCandidate(email: string | undefined, suffix?: string): string {
  let base = (email?.split('@')[0] ?? '')
    .toLowerCase()
    .replace(LOGIN_CHARS, '')
    .replace(/^[._-]+/, '');
  if (base.length < 3) base = 'user';
  base = base.slice(0, 48);
  return suffix ? `${base}-${suffix}` : base;
}
