/**
 * Social login through OpenID providers (architecture/decisions/0024-social-login.md):
 * /oauth/{provider}/login and /callback for the browser, /oauth/exchange for
 * the front end, and /me/identities for linking and unlinking.
 */
import cookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { FLOW_TTL_SECONDS, type OidcService } from '../../../domain/oidc/oidc.service.js';
import type { Guards } from '../../../http-guards/authenticate.js';
import { bearerSecurity, problems, TokenPair } from '../../schemas.js';
import { clientInfo, type RouteRateLimit } from './client-info.js';

/** Binds a started flow to the browser that started it. */
export const FLOW_COOKIE = 'tollgate_oauth';

export interface OauthRoutesOptions {
  oidc: OidcService;
  guards: Guards;
  rateLimit: RouteRateLimit;
  /** Auth's public base URL: its scheme decides whether the cookie is Secure. */
  publicBaseUrl: string;
}

const ProviderParams = Type.Object({ provider: Type.String({ pattern: '^[a-z0-9-]{1,32}$' }) });
const IdentityView = Type.Object({
  provider: Type.String(),
  issuer: Type.String(),
  subject: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

export const oauthRoutes: FastifyPluginAsyncTypebox<OauthRoutesOptions> = async (app, options) => {
  const { oidc, guards, rateLimit } = options;
  await app.register(cookie);
  const secure = options.publicBaseUrl.startsWith('https:');

  function setFlowCookie(reply: FastifyReply, binding: string) {
    // Lax: the provider sends the browser back with a top-level GET, which carries it.
    reply.setCookie(FLOW_COOKIE, binding, {
      path: '/v1/auth/oauth',
      httpOnly: true,
      sameSite: 'lax',
      secure,
      maxAge: FLOW_TTL_SECONDS,
    });
  }

  app.get(
    '/oauth/providers',
    {
      schema: {
        tags: ['auth'],
        summary: 'The configured login providers, and whether each can be used now',
        response: {
          200: Type.Array(
            Type.Object({ name: Type.String(), label: Type.String(), available: Type.Boolean() }),
          ),
        },
      },
    },
    async () => oidc.providers(),
  );

  app.get(
    '/oauth/:provider/login',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Start a login at the provider (redirects the browser there)',
        params: ProviderParams,
        querystring: Type.Object(
          { redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })) },
          { additionalProperties: false },
        ),
        response: { 302: Type.Null(), ...problems(400, 404, 429, 503) },
      },
    },
    async function oauthLogin(request, reply) {
      const started = await oidc.start(request.params.provider, { redirectUri: request.query.redirect_uri });
      setFlowCookie(reply, started.binding);
      return reply.redirect(started.authorizationUrl, 302);
    },
  );

  app.get(
    '/oauth/:provider/callback',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Where the provider sends the browser back; redirects to the front end with a one-time code',
        params: ProviderParams,
        response: { 302: Type.Null(), ...problems(400, 404, 409, 429, 503) },
      },
    },
    async function oauthCallback(request, reply) {
      const at = request.url.indexOf('?');
      const query = new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1));
      const binding = request.cookies[FLOW_COOKIE];
      reply.clearCookie(FLOW_COOKIE, { path: '/v1/auth/oauth' });
      const target = await oidc.callback(request.params.provider, query, binding);
      return reply.redirect(target, 302);
    },
  );

  app.post(
    '/oauth/exchange',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: "Exchange the callback's one-time code for a token pair (once, within 60 s)",
        body: Type.Object(
          { code: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair, ...problems(400, 401, 403, 429) },
      },
    },
    async function oauthExchange(request) {
      return oidc.exchange(request.body.code, clientInfo(request));
    },
  );

  app.get(
    '/me/identities',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'The provider identities linked to this account',
        security: bearerSecurity,
        response: { 200: Type.Array(IdentityView), ...problems(401) },
      },
    },
    async function listIdentities(request) {
      const identities = await oidc.identities(request.user!.sub);
      return identities.map((identity) => ({
        provider: identity.provider,
        issuer: identity.issuer,
        subject: identity.subject,
        email: identity.email,
        created_at: identity.createdAt.toISOString(),
      }));
    },
  );

  app.post(
    '/me/identities/:provider',
    {
      preHandler: guards.requireUser,
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Start linking a provider identity to this account: send the browser to authorization_url',
        security: bearerSecurity,
        params: ProviderParams,
        body: Type.Optional(
          Type.Object(
            { redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })) },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: Type.Object({ authorization_url: Type.String() }),
          ...problems(400, 401, 404, 429, 503),
        },
      },
    },
    async function startLink(request, reply) {
      const started = await oidc.start(request.params.provider, {
        redirectUri: request.body?.redirect_uri,
        linkUserId: request.user!.sub,
      });
      setFlowCookie(reply, started.binding);
      return { authorization_url: started.authorizationUrl };
    },
  );

  app.delete(
    '/me/identities/:provider',
    {
      preHandler: guards.requireUser,
      schema: {
        tags: ['auth'],
        summary: 'Unlink a provider identity (refused when it is the last way to log in)',
        security: bearerSecurity,
        params: ProviderParams,
        response: { 204: Type.Null(), ...problems(401, 404, 409) },
      },
    },
    async function unlink(request, reply) {
      await oidc.unlink(request.user!.sub, request.params.provider);
      return reply.code(204).send(null);
    },
  );
};
