/**
 * Passkeys (WebAuthn): register one (options, then the authenticator's
 * answer), list, rename and delete them under /v1/auth/mfa/passkeys; sign in
 * with one alone (usernameless) or as the second step of an MFA ticket under
 * /v1/auth/login/passkey. The browser side is navigator.credentials (or
 * @simplewebauthn/browser); the JSON bodies are its JSON forms.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { PasskeyService } from '../../../domain/mfa/passkeys.service.js';
import type { MfaTickets } from '../../../domain/mfa/totp.service.js';
import type { AuthService } from '../../../domain/sessions/auth.service.js';
import type { Profiles } from '../../../domain/users/profiles.js';
import { Problems } from '../../../errors.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, problems, TokenPair } from '../../schemas.js';
import { clientInfo, type RouteRateLimit } from './client-info.js';

export interface PasskeyRoutesOptions {
  auth: AuthService;
  passkeys: PasskeyService;
  tickets: MfaTickets;
  profiles: Profiles;
  guards: Guards;
  rateLimit: RouteRateLimit;
}

const B64 = Type.String({ minLength: 1, maxLength: 16_384, pattern: '^[A-Za-z0-9_-]+={0,2}$' });
const Name = Type.String({ minLength: 1, maxLength: 64 });
const Attachment = Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]);
const Ticket = Type.String({ minLength: 16, maxLength: 128 });

/** PublicKeyCredential.toJSON() of navigator.credentials.create(). */
const RegistrationResponse = Type.Object({
  id: B64,
  rawId: B64,
  type: Type.Literal('public-key'),
  response: Type.Object(
    {
      clientDataJSON: B64,
      attestationObject: B64,
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
    },
    { additionalProperties: true },
  ),
  authenticatorAttachment: Type.Optional(Attachment),
  clientExtensionResults: Type.Object({}, { additionalProperties: true }),
});

/** PublicKeyCredential.toJSON() of navigator.credentials.get(). */
const AuthenticationResponse = Type.Object({
  id: B64,
  rawId: B64,
  type: Type.Literal('public-key'),
  response: Type.Object(
    {
      clientDataJSON: B64,
      authenticatorData: B64,
      signature: B64,
      userHandle: Type.Optional(B64),
    },
    { additionalProperties: true },
  ),
  authenticatorAttachment: Type.Optional(Attachment),
  clientExtensionResults: Type.Object({}, { additionalProperties: true }),
});

const PasskeyView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  device_type: Type.String({ description: 'singleDevice or multiDevice (synced)' }),
  backed_up: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/** The options are the WebAuthn JSON forms; their exact shape is the library's (and the spec's). */
const Options = Type.Object({ challenge: Type.String() }, { additionalProperties: true });

export const passkeyRoutes: FastifyPluginAsyncTypebox<PasskeyRoutesOptions> = async (app, options) => {
  const { auth, passkeys, tickets, guards, rateLimit } = options;
  const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

  app.post(
    '/mfa/passkeys/registration/options',
    {
      preHandler: guards.requireUser,
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Options for navigator.credentials.create(): a new passkey for the logged-in user',
        description:
          'The challenge works once, for 5 minutes; send the answer to POST /v1/auth/mfa/passkeys.',
        security: bearerSecurity,
        response: { 200: Options, ...problems(401, 409, 429) },
      },
    },
    async function passkeyRegistrationOptions(request, reply) {
      const profile = await options.profiles.get(request.user!.sub);
      reply.header('cache-control', 'no-store');
      return passkeys.registrationOptions({ id: profile.id, login: profile.login, email: profile.email });
    },
  );

  app.post(
    '/mfa/passkeys',
    {
      preHandler: guards.requireUser,
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Register a passkey: the authenticator answer to the registration options',
        security: bearerSecurity,
        body: Type.Object(
          { response: RegistrationResponse, name: Type.Optional(Name) },
          { additionalProperties: false },
        ),
        response: { 201: PasskeyView, ...problems(400, 401, 429) },
      },
    },
    async function registerPasskey(request, reply) {
      const created = await passkeys.register(request.user!.sub, request.body.response, request.body.name);
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/mfa/passkeys',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: "The logged-in user's passkeys",
        security: bearerSecurity,
        response: { 200: Type.Object({ passkeys: Type.Array(PasskeyView) }), ...problems(401) },
      },
    },
    async function listPasskeys(request) {
      return { passkeys: await passkeys.list(request.user!.sub) };
    },
  );

  app.patch(
    '/mfa/passkeys/:id',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Rename one of your passkeys',
        security: bearerSecurity,
        params: IdParams,
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 200: PasskeyView, ...problems(400, 401, 404) },
      },
    },
    async function renamePasskey(request) {
      return passkeys.rename(request.user!.sub, request.params.id, request.body.name);
    },
  );

  app.delete(
    '/mfa/passkeys/:id',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Delete one of your passkeys',
        security: bearerSecurity,
        params: IdParams,
        response: { 204: Type.Null(), ...problems(400, 401, 404) },
      },
    },
    async function deletePasskey(request, reply) {
      await passkeys.remove(request.user!.sub, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/login/passkey/options',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Options for navigator.credentials.get(): sign in with a passkey',
        description:
          "Without a body: any passkey of this site (usernameless). With the `ticket` of an mfa_required answer: one of that account's passkeys, as the second factor.",
        body: Type.Optional(Type.Object({ ticket: Type.Optional(Ticket) }, { additionalProperties: false })),
        response: { 200: Options, ...problems(400, 401, 404, 429) },
      },
    },
    async function passkeyLoginOptions(request, reply) {
      let userId: string | undefined;
      if (request.body?.ticket) {
        userId = (await tickets.peek(request.body.ticket)) ?? undefined;
        if (!userId) throw Problems.mfaTicketInvalid('log in with the password again for a new ticket');
      }
      reply.header('cache-control', 'no-store');
      return passkeys.authenticationOptions(userId);
    },
  );

  app.post(
    '/login/passkey',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary:
          'Sign in with a passkey: the authenticator answer to the sign-in options; answers the token pair',
        description:
          'With `ticket` (from mfa_required), the passkey is the second factor of that password login; a wrong one counts into the lockout and the ticket tries.',
        body: Type.Object(
          { response: AuthenticationResponse, ticket: Type.Optional(Ticket) },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair, ...problems(400, 401, 403, 429) },
      },
    },
    async function loginWithPasskey(request) {
      const { response, ticket } = request.body;
      if (ticket) return auth.loginMfaPasskey({ ticket, response }, clientInfo(request));
      return auth.loginPasskey(response, clientInfo(request));
    },
  );
};
