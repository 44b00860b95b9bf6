/**
 * Mail-backed account flows: verifying the email address, and resetting a
 * forgotten password. The tokens arrive in mail links (after `#`) and come
 * back here in a POST body, never in a URL.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AccountEmails } from '../../../domain/email/account-emails.service.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, Password, problems } from '../../schemas.js';
import type { RouteRateLimit } from './client-info.js';

export interface EmailRoutesOptions {
  accountEmails: AccountEmails;
  guards: Guards;
  rateLimit: RouteRateLimit;
  /** The endpoints that send mail get the tight hourly limit. */
  accountRateLimit: RouteRateLimit;
}

const MailToken = Type.String({
  minLength: 16,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'The token from the mail link (the part after `#...=`)',
});

const Accepted = Type.Object({ status: Type.Literal('accepted') });

export const emailRoutes: FastifyPluginAsyncTypebox<EmailRoutesOptions> = async (app, options) => {
  const { accountEmails, guards } = options;

  app.post(
    '/email/verify',
    {
      config: { rateLimit: options.rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Verify an email address (or confirm a new one) with the token from the mail',
        description:
          'Tokens are single-use; a verification link works 24 hours, an email-change link 24 hours. Tokens issued afterwards carry `email_verified: true` (log in again or refresh).',
        body: Type.Object({ token: MailToken }, { additionalProperties: false }),
        response: {
          200: Type.Object({ email: Type.String(), email_verified: Type.Literal(true) }),
          ...problems(400, 409, 429),
        },
      },
    },
    async function verifyEmail(request) {
      const { email } = await accountEmails.verify(request.body.token);
      return { email, email_verified: true as const };
    },
  );

  app.post(
    '/email/resend',
    {
      preHandler: guards.requireUser,
      config: { rateLimit: options.accountRateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Send the verification mail again (the earlier link stops working)',
        security: bearerSecurity,
        response: { 202: Accepted, ...problems(401, 409, 429) },
      },
    },
    async function resendVerification(request, reply) {
      await accountEmails.resendVerification(request.user!.sub);
      return reply.code(202).send({ status: 'accepted' });
    },
  );

  app.post(
    '/password/forgot',
    {
      config: { rateLimit: options.accountRateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Mail a password-reset link to the account with this login or email, if there is one',
        description:
          'Answers 202 at once, the same whether or not the account exists; the link works once, for 1 hour. Rate limited per client address.',
        body: Type.Object(
          { login_or_email: Type.String({ minLength: 1, maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: { 202: Accepted, ...problems(400, 429) },
      },
    },
    async function forgotPassword(request, reply) {
      accountEmails.requestPasswordReset(request.body.login_or_email);
      return reply.code(202).send({ status: 'accepted' });
    },
  );

  app.post(
    '/password/reset',
    {
      config: { rateLimit: options.rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with the token from the reset mail; ends every session',
        body: Type.Object({ token: MailToken, password: Password }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems(400, 429) },
      },
    },
    async function resetPassword(request, reply) {
      await accountEmails.resetPassword(request.body.token, request.body.password);
      return reply.code(204).send(null);
    },
  );
};
