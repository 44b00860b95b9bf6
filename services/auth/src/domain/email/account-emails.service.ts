/**
 * Mail that proves who reads an address: verification on registration,
 * password reset, and confirming a new address. Tokens are single-use,
 * stored hashed, and only ever leave in a mail's link (after `#`).
 */
import { isUniqueViolation } from '../../db/prisma.js';
import { Problems } from '../../errors.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import { checkPassword, describePasswordProblem } from '../passwords/password-policy.js';
import type { UserRecord, UsersRepository } from '../users/users.repository.js';
import type { EmailTokensRepository } from './email-tokens.repository.js';
import type { Mailer, MailerLog } from './mailer.js';
import {
  confirmEmailChangeMail,
  emailChangeNoticeMail,
  type MailContent,
  resetPasswordMail,
  verifyEmailMail,
} from './templates.js';

export const VERIFY_TTL_SECONDS = 24 * 3600;
export const RESET_TTL_SECONDS = 3600;
export const CHANGE_TTL_SECONDS = 24 * 3600;

export interface AccountEmailsDeps {
  users: Pick<UsersRepository, 'findById' | 'findByEmail' | 'findForLogin' | 'update' | 'markEmailVerified'>;
  tokens: EmailTokensRepository;
  mailer: Mailer;
  hasher: Pick<PasswordHasher, 'hash'>;
  /** Ends the user's sessions the way logout does (revocation reaches every verifier). */
  endSessions(userId: string, filter: { only?: string; except?: string }, reason: string): Promise<unknown>;
  /** Told when a user's profile changed (GET /me caches it). */
  onUserChanged?(userId: string): void;
  /** Where the pages that take the links live (PUBLIC_URL). */
  publicUrl: string;
  log: MailerLog;
}

export function createAccountEmails(deps: AccountEmailsDeps) {
  const link = (action: string, token: string) => `${deps.publicUrl}/#${action}=${token}`;

  /**
   * Mail is sent after the answer: a slow or failing SMTP server costs the
   * user a resend, not a failed request, and never the process.
   */
  function deliver(to: string, content: MailContent): void {
    deps.mailer.send(to, content).catch((error: unknown) => {
      deps.log.warn({ err: error, to, subject: content.subject }, 'mail could not be sent');
    });
  }

  async function sendVerification(user: Pick<UserRecord, 'id' | 'login' | 'email' | 'emailVerifiedAt'>) {
    if (user.emailVerifiedAt) return;
    const token = await deps.tokens.issue(user.id, 'verify_email', user.email, VERIFY_TTL_SECONDS);
    deliver(user.email, verifyEmailMail(user.login, link('verify-email', token), VERIFY_TTL_SECONDS / 3600));
  }

  async function mailResetLink(loginOrEmail: string) {
    const user = await deps.users.findForLogin(loginOrEmail);
    if (!user || user.disabledAt) return;
    const token = await deps.tokens.issue(user.id, 'reset_password', user.email, RESET_TTL_SECONDS);
    deliver(user.email, resetPasswordMail(user.login, link('reset-password', token), RESET_TTL_SECONDS / 60));
  }

  return {
    sendVerification,

    async resendVerification(userId: string) {
      const user = await deps.users.findById(userId);
      if (!user) throw Problems.userNotFound();
      if (user.emailVerifiedAt) throw Problems.emailAlreadyVerified('this email address is already verified');
      await sendVerification(user);
    },

    /** Uses a verification or email-change token; answers the address now verified. */
    async verify(token: string): Promise<{ userId: string; email: string }> {
      const used = await deps.tokens.consume(token, ['verify_email', 'change_email']);
      if (!used) throw Problems.emailTokenInvalid('this link is unknown, used or expired; ask for a new one');
      if (used.purpose === 'verify_email') {
        // The address may have changed since the mail went out.
        if (!(await deps.users.markEmailVerified(used.userId, used.email)))
          throw Problems.emailTokenInvalid('the account no longer uses the address this link was sent to');
      } else {
        try {
          await deps.users.update(used.userId, { email: used.email, emailVerifiedAt: new Date() });
        } catch (error) {
          if (isUniqueViolation(error, 'email'))
            throw Problems.emailTaken('this email is already registered');
          throw error;
        }
      }
      deps.onUserChanged?.(used.userId);
      return { userId: used.userId, email: used.email };
    },

    /**
     * Starts a reset. The caller answers at once and the same way whether or
     * not the account exists: the lookup and the mail happen afterwards, so
     * neither the answer nor its timing tells an account exists.
     */
    requestPasswordReset(loginOrEmail: string): void {
      mailResetLink(loginOrEmail).catch((error: unknown) => {
        deps.log.warn({ err: error }, 'password reset could not be started');
      });
    },

    /** Sets a new password with a reset token, and ends every session of the account. */
    async resetPassword(token: string, password: string) {
      // Checked before the token is used, so a refused password does not spend the link.
      const problem = checkPassword(password);
      if (problem) throw Problems.weakPassword(describePasswordProblem(problem), { reason: problem });
      const passwordHash = await deps.hasher.hash(password);
      const used = await deps.tokens.consume(token, ['reset_password']);
      if (!used) throw Problems.emailTokenInvalid('this link is unknown, used or expired; ask for a new one');
      const user = await deps.users.findById(used.userId);
      if (!user) throw Problems.emailTokenInvalid('this link is unknown, used or expired; ask for a new one');
      await deps.users.update(user.id, {
        passwordHash,
        // Following the link proved the owner reads mail at this address.
        ...(user.email === used.email && !user.emailVerifiedAt ? { emailVerifiedAt: new Date() } : {}),
      });
      await deps.endSessions(user.id, {}, 'password_reset');
      deps.onUserChanged?.(user.id);
    },

    /**
     * Mails a confirmation link to the new address and a notice to the old
     * one; the account's address changes only when the link is followed.
     */
    async requestEmailChange(user: Pick<UserRecord, 'id' | 'login' | 'email'>, newEmail: string) {
      const email = newEmail.toLowerCase();
      if (await deps.users.findByEmail(email)) throw Problems.emailTaken('this email is already registered');
      const token = await deps.tokens.issue(user.id, 'change_email', email, CHANGE_TTL_SECONDS);
      deliver(
        email,
        confirmEmailChangeMail(user.login, link('confirm-email', token), CHANGE_TTL_SECONDS / 3600),
      );
      deliver(user.email, emailChangeNoticeMail(user.login, email));
    },
  };
}

export type AccountEmails = ReturnType<typeof createAccountEmails>;
