/**
 * TOTP as a second factor: set it up (secret, otpauth URI, QR code), turn it
 * on with a first code (answers ten recovery codes, once), turn it off (the
 * password and a code), and the second step of a login.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { TotpService } from '../../../domain/mfa/totp.service.js';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import type { Profiles } from '../../../domain/users/profiles.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, Password, problems, TokenPair } from '../../schemas.js';
import { clientInfo, type RouteRateLimit } from './client-info.js';

export interface MfaRoutesOptions {
  auth: AuthService;
  totp: TotpService;
  profiles: Profiles;
  guards: Guards;
  rateLimit: RouteRateLimit;
}

const Code = Type.String({
  minLength: 6,
  maxLength: 32,
  description: 'A 6-digit code from the authenticator app, or a recovery code',
});

export const mfaRoutes: FastifyPluginAsyncTypebox<MfaRoutesOptions> = async (app, options) => {
  const { auth, totp, guards, rateLimit } = options;

  app.post(
    '/mfa/totp/setup',
    {
      preHandler: guards.requireUser,
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Start setting up an authenticator app: a new secret, its otpauth URI and a QR code (SVG)',
        description: 'Nothing changes at login until POST /v1/auth/mfa/totp/confirm with a first code.',
        security: bearerSecurity,
        response: {
          200: Type.Object({ secret: Type.String(), otpauth_uri: Type.String(), qr_svg: Type.String() }),
          ...problems(401, 409, 429),
        },
      },
    },
    async function setupTotp(request, reply) {
      const profile = await options.profiles.get(request.user!.sub);
      const setup = await totp.setup({ id: profile.id, login: profile.login });
      reply.header('cache-control', 'no-store');
      return { secret: setup.secret, otpauth_uri: setup.otpauthUri, qr_svg: setup.qrSvg };
    },
  );

  app.post(
    '/mfa/totp/confirm',
    {
      preHandler: guards.requireUser,
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Turn TOTP on with a first code; answers ten single-use recovery codes, shown this once',
        security: bearerSecurity,
        body: Type.Object({ code: Code }, { additionalProperties: false }),
        response: {
          200: Type.Object({ recovery_codes: Type.Array(Type.String()) }),
          ...problems(400, 401, 409, 429),
        },
      },
    },
    async function confirmTotp(request, reply) {
      const codes = await totp.confirm(request.user!.sub, request.body.code);
      reply.header('cache-control', 'no-store');
      return { recovery_codes: codes };
    },
  );

  app.post(
    '/mfa/totp/disable',
    {
      preHandler: guards.requireUser,
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Turn TOTP off: needs the password and a code (wrong ones count into the login lockout)',
        security: bearerSecurity,
        body: Type.Object({ password: Password, code: Code }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...problems(400, 401, 403, 409, 429) },
      },
    },
    async function disableTotp(request, reply) {
      await auth.disableTotp(request.user!.sub, request.body, clientInfo(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/login/mfa',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Second step of a login with TOTP on: the ticket from mfa_required and a code',
        description:
          'A TOTP code works once (a replay within its window is refused); a recovery code works once. Wrong codes count into the account lockout; a ticket lives 5 minutes and takes 5 tries.',
        body: Type.Object(
          { ticket: Type.String({ minLength: 16, maxLength: 128 }), code: Code },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair, ...problems(400, 401, 403, 429) },
      },
    },
    async function loginMfa(request) {
      return auth.loginMfa(request.body, clientInfo(request));
    },
  );
};
