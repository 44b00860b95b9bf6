/**
 * Who may use the admin panel, and how a request proves it is the admin's own
 * page asking. Replaces @adminjs/fastify's buildAuthenticatedRouter, whose
 * session lives in process memory, whose login has no limit, whose guard
 * lets any URL containing an asset path through, and which leaves every
 * action reachable by a cross-site GET.
 *
 * - Sessions: @fastify/session in billing's database (session-store.ts), the
 *   cookie `SameSite=Strict`, `HttpOnly`, `Secure` in production, scoped to
 *   the panel's path; a new session id at login.
 * - Login: the per-address rate limit and the per-account lockout of auth's
 *   /v1/auth/login (@fastify/rate-limit and @tollgate/login-guard, in Redis
 *   when billing has one, so every replica counts together).
 * - Every request that is not a GET/HEAD must come from the panel's own
 *   origin (Origin, else Referer), and, past the login form, carry the
 *   session's CSRF token (@fastify/csrf-protection) and reach one of the
 *   panel's own record actions; everything else (bulkDelete, new, edit,
 *   delete, resource actions) is refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormBody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession, { type SessionStore } from '@fastify/session';
import type { LoginLockout } from '@tollgate/login-guard';
import { type default as AdminJS, Router as AdminRouter } from 'adminjs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { Problems } from '../errors.js';
import type { AuthAdminLogin } from './auth-login.js';

export const ADMIN_COOKIE = 'tollgate_admin';

export interface AdminAuthOptions {
  admin: AdminJS;
  login: string;
  password: string;
  /** Signs the session cookie; at least 32 characters. */
  cookieSecret: string;
  /** Secure cookies (HTTPS only): production. */
  secureCookies: boolean;
  sessionTtlSeconds: number;
  store: SessionStore;
  lockout: LoginLockout;
  /** Login attempts per address and minute. */
  rateLimitPerMinute: number;
  /** Where the rate limit counts (every replica together); in this process without it. */
  redis?: Redis;
  /** `resource/action` pairs a POST may reach (resources.ts `postActions`). */
  postActions: Set<string>;
  /** Routes under the panel's path that need no session (its static files). */
  publicRoutes: string[];
  /**
   * ADMIN_REQUIRE_MFA: log in through auth (an admin-role user with TOTP):
   * the password, then a code on a second form. `login`/`password` are not used then.
   */
  viaAuth?: AuthAdminLogin;
}

interface AdminUser {
  email: string;
  title: string;
  /** Read by the panel's pages (AdminJS hands the session's admin to them) and sent back as x-csrf-token. */
  csrfToken: string;
}

declare module 'fastify' {
  interface Session {
    adminUser?: AdminUser;
    /** Between the password and the code (ADMIN_REQUIRE_MFA): auth's MFA ticket. */
    adminMfaTicket?: string;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const digest = (value: string) => createHash('sha256').update(value).digest();

/** The panel's own origin as the browser sees it (behind a trusted proxy: its X-Forwarded-Proto/Host). */
export function isSameOrigin(request: FastifyRequest): boolean {
  let expected: string;
  try {
    expected = new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    return false;
  }
  const origin = request.headers.origin;
  // "null" (a sandboxed frame, a page with no-referrer) proves nothing: refused like a foreign origin.
  if (origin) return origin === expected;
  const referer = request.headers.referer;
  if (!referer) return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

export async function registerAdminAuth(scope: FastifyInstance, options: AdminAuthOptions): Promise<void> {
  const { admin, lockout } = options;
  const { rootPath, loginPath, logoutPath } = admin.options;
  const expectedLogin = digest(options.login);
  const expectedPassword = digest(options.password);
  // Both compared in constant time, and both always compared.
  const credentialsMatch = (login: string, password: string) => {
    const loginOk = timingSafeEqual(digest(login), expectedLogin);
    const passwordOk = timingSafeEqual(digest(password), expectedPassword);
    return loginOk && passwordOk;
  };

  await scope.register(fastifyCookie, { secret: options.cookieSecret });
  await scope.register(fastifySession, {
    secret: options.cookieSecret,
    cookieName: ADMIN_COOKIE,
    store: options.store,
    saveUninitialized: false,
    cookie: {
      secure: options.secureCookies,
      httpOnly: true,
      sameSite: 'strict',
      path: rootPath,
      maxAge: options.sessionTtlSeconds * 1000,
    },
  });
  await scope.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    getToken: (request) => {
      const header = request.headers['x-csrf-token'];
      return typeof header === 'string' ? header : undefined;
    },
  });
  await scope.register(fastifyFormBody);
  await scope.register(fastifyRateLimit, {
    global: false,
    ...(options.redis ? { redis: options.redis } : {}),
    nameSpace: 'admin-rate-limit:',
    // If Redis is briefly unreachable, serve rather than fail every login.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => Problems.rateLimited(Math.ceil(context.ttl / 1000)),
  });

  const publicRoutes = new Set([
    ...options.publicRoutes,
    ...AdminRouter.assets.map((asset) => `${rootPath}${asset.path}`),
    ...AdminRouter.routes
      .filter((route) => route.action === 'bundleComponents')
      .map((route) => `${rootPath}${route.path}`),
    loginPath,
    `${loginPath}/code`,
    logoutPath,
  ]);
  const recordActionRoute = `${rootPath}/api/resources/:resourceId/records/:recordId/:action`;

  scope.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url;
    const unsafe = !SAFE_METHODS.has(request.method);
    if (unsafe && !isSameOrigin(request))
      throw Problems.crossOriginRejected('admin requests must come from the admin panel itself');
    if (route === undefined || publicRoutes.has(route)) return;
    if (!request.session.adminUser) {
      if (unsafe) throw Problems.authenticationRequired('log in to the admin panel first');
      return reply.redirect(loginPath);
    }
    if (!unsafe) return;
    const params = request.params as { resourceId?: string; action?: string };
    if (route !== recordActionRoute || !options.postActions.has(`${params.resourceId}/${params.action}`))
      throw Problems.adminActionForbidden('this action is not available in the admin panel');
  });
  // After the guard: only requests it let through as state-changing need the token.
  scope.addHook('preHandler', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (SAFE_METHODS.has(request.method) || route === loginPath || route === `${loginPath}/code`)
      return done();
    scope.csrfProtection(request, reply, done);
  });

  const renderLogin = (errorMessage: string | null) => admin.renderLogin({ action: loginPath, errorMessage });

  scope.get(loginPath, async (_request, reply) => reply.type('text/html').send(await renderLogin(null)));

  scope.post(
    loginPath,
    { config: { rateLimit: { max: options.rateLimitPerMinute, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const body = (request.body ?? {}) as { email?: unknown; password?: unknown };
      const login = typeof body.email === 'string' ? body.email : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const status = await lockout.check(login, request.ip);
      if (status.lockedSeconds > 0) {
        return reply
          .code(429)
          .header('retry-after', String(status.lockedSeconds))
          .type('text/html')
          .send(await renderLogin(`Too many failed logins: try again in ${status.lockedSeconds} s.`));
      }
      if (options.viaAuth) {
        const outcome = await options.viaAuth.password(login, password, request.ip);
        if (outcome.kind === 'code_needed') {
          if (!status.clean) await lockout.recordSuccess(login, request.ip);
          await request.session.regenerate();
          request.session.adminMfaTicket = outcome.ticket;
          return reply.type('text/html').send(codeForm(null));
        }
        if (outcome.kind === 'mfa_setup_required')
          return reply
            .code(403)
            .type('text/html')
            .send(
              await renderLogin(
                'This panel needs a second factor: set up TOTP for this account (POST /v1/auth/mfa/totp/setup), then log in again.',
              ),
            );
        if (outcome.kind === 'locked')
          return reply
            .code(429)
            .header('retry-after', String(outcome.retryAfterSeconds))
            .type('text/html')
            .send(await renderLogin(`Too many failed logins: try again in ${outcome.retryAfterSeconds} s.`));
        await lockout.recordFailure(login, request.ip);
        return reply
          .code(401)
          .type('text/html')
          .send(await renderLogin('invalidCredentials'));
      }
      if (!credentialsMatch(login, password)) {
        await lockout.recordFailure(login, request.ip);
        return reply
          .code(401)
          .type('text/html')
          .send(await renderLogin('invalidCredentials'));
      }
      if (!status.clean) await lockout.recordSuccess(login, request.ip);
      return startAdminSession(request, reply, options.login);
    },
  );

  async function startAdminSession(request: FastifyRequest, reply: FastifyReply, login: string) {
    // A fresh session id at login: one planted before it is worth nothing after.
    await request.session.regenerate();
    const csrfToken = reply.generateCsrf();
    request.session.adminUser = { email: login, title: 'admin', csrfToken };
    return reply.redirect(rootPath);
  }

  /** The second step (ADMIN_REQUIRE_MFA): a plain form, posted to `<login>/code`. */
  function codeForm(error: string | null): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tollgate admin: second factor</title>
<meta name="referrer" content="same-origin"></head><body><main>
<h1>Second factor</h1>
${error ? `<p role="alert" id="code-error">${error}</p>` : ''}
<form method="post" action="${loginPath}/code">
<label>Code from your authenticator app, or a recovery code <input name="code" autocomplete="one-time-code" required minlength="6" maxlength="32" autofocus></label>
<button type="submit">Log in</button></form>
<p><a href="${loginPath}">Start again</a></p></main></body></html>`;
  }

  if (options.viaAuth) {
    const viaAuth = options.viaAuth;
    scope.post(
      `${loginPath}/code`,
      { config: { rateLimit: { max: options.rateLimitPerMinute, timeWindow: '1 minute' } } },
      async (request, reply) => {
        const ticket = request.session.adminMfaTicket;
        if (!ticket) return reply.redirect(loginPath);
        const body = (request.body ?? {}) as { code?: unknown };
        const code = typeof body.code === 'string' ? body.code.trim() : '';
        const outcome = await viaAuth.code(ticket, code, request.ip);
        if (outcome.kind === 'admin') return startAdminSession(request, reply, outcome.login);
        if (outcome.kind === 'invalid')
          return reply
            .code(401)
            .type('text/html')
            .send(codeForm('That code is not right (or was used already).'));
        await request.session.destroy();
        if (outcome.kind === 'locked')
          return reply
            .code(429)
            .header('retry-after', String(outcome.retryAfterSeconds))
            .type('text/html')
            .send(await renderLogin(`Too many failed logins: try again in ${outcome.retryAfterSeconds} s.`));
        if (outcome.kind === 'not_admin')
          return reply
            .code(403)
            .type('text/html')
            .send(await renderLogin('invalidCredentials'));
        return reply
          .code(401)
          .type('text/html')
          .send(await renderLogin('The login expired: start again.'));
      },
    );
  }

  scope.get(logoutPath, async (request, reply) => {
    await request.session.destroy();
    return reply.redirect(loginPath);
  });
}
