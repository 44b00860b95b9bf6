/**
 * The AdminJS panel at /admin: the billing tables, actions that act on
 * Stripe through billing's own services, and a dashboard, branded as
 * tollgate and loading nothing from outside the server. Mounted in its own
 * Fastify scope (it brings its own cookie, session and body parsers); who may
 * use it, and how, is admin-auth.ts.
 */
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import AdminJSFastify from '@adminjs/fastify';
import { Database, Resource } from '@adminjs/prisma';
import type { LoginLockout } from '@tollgate/login-guard';
import AdminJS from 'adminjs';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { PrismaClient } from '../generated/prisma/client.js';
import { registerAdminAuth } from './admin-auth.js';
import type { AuthAdminLogin } from './auth-login.js';
import { adminComponents } from './components.js';
import { dashboardStats } from './dashboard-stats.js';
import { loadDatamodel } from './dmmf.js';
import { type AdminActions, actionLabels, adminResources, postActions } from './resources.js';
import { createAdminSessionStore } from './session-store.js';

export type { AdminActions } from './resources.js';

AdminJS.registerAdapter({ Database, Resource });

export interface AdminOptions {
  db: PrismaClient;
  login: string;
  password: string;
  /** Signs the session cookie; at least 32 characters. */
  cookieSecret: string;
  /** Production: Secure cookies (HTTPS only); AdminJS bundles the components at start. */
  production: boolean;
  sessionTtlSeconds: number;
  loginRateLimitPerMinute: number;
  lockout: LoginLockout;
  /** Shared counters for the login rate limit (every replica); this process's own without it. */
  redis?: Redis;
  actions: AdminActions;
  rootPath?: string;
  /** ADMIN_REQUIRE_MFA: log in through auth with a second factor. */
  viaAuth?: AuthAdminLogin;
}

const require = createRequire(import.meta.url);
const FONT_DIR = path.join(path.dirname(require.resolve('@fontsource/roboto/package.json')), 'files');
const FONT_WEIGHTS = [300, 400, 500, 700];
const LOGO = path.join(import.meta.dirname, 'assets', 'tollgate-logo.svg');
/** AdminJS's page templates link this stylesheet; it is swapped for the same font served here. */
const GOOGLE_FONTS_LINK =
  /<link rel="stylesheet" href="https:\/\/fonts\.googleapis\.com\/css\?family=Roboto:300,400,500,700" type="text\/css">/g;

/** tollgate's colours over AdminJS's theme (design-system keys). */
const THEME = {
  colors: {
    primary100: '#0f766e',
    primary80: '#138a80',
    primary60: '#2aa198',
    primary40: '#7cc7c0',
    primary20: '#d2efec',
    accent: '#f59e0b',
    love: '#0f766e',
  },
};

const LOGIN_TEXTS = {
  welcomeHeader: 'tollgate billing',
  welcomeMessage:
    'The operators’ panel: customers, subscriptions, invoices, webhook events and role syncs, mirrored from Stripe.',
  properties: { email: 'Login', password: 'Password' },
};

function fontFaces(base: string): string {
  return FONT_WEIGHTS.map(
    (weight) =>
      `@font-face{font-family:'Roboto';font-style:normal;font-display:swap;font-weight:${weight};` +
      `src:url(${base}/roboto-latin-${weight}-normal.woff2) format('woff2');}`,
  ).join('\n');
}

export async function registerAdmin(app: FastifyInstance, options: AdminOptions): Promise<void> {
  const { db, actions } = options;
  const rootPath = options.rootPath ?? '/admin';
  const own = `${rootPath}/tollgate`;
  const { componentLoader, Dashboard, components } = adminComponents();
  const resources = adminResources({ db, datamodel: loadDatamodel(), actions, components });

  const admin = new AdminJS({
    rootPath,
    componentLoader,
    branding: {
      companyName: 'tollgate billing',
      logo: `${own}/logo.svg`,
      favicon: `${own}/logo.svg`,
      withMadeWithLove: false,
      theme: THEME,
    },
    locale: {
      language: 'en',
      availableLanguages: ['en'],
      translations: { en: { components: { Login: LOGIN_TEXTS }, actions: actionLabels() } },
    },
    dashboard: { component: Dashboard, handler: async () => dashboardStats(db) },
    resources,
  });
  // In production AdminJS bundles the custom components here, offline, unless `npm run build`
  // has (./mount.ts). Outside it, it bundles them at the first request into .adminjs/bundle.js
  // and then serves that file for ever, across restarts, so a changed component never showed:
  // start from the sources.
  if (!options.production) await rm(path.join('.adminjs', 'bundle.js'), { force: true });
  await admin.initialize();

  await app.register(async (scope) => {
    // The panel's pages, API and assets are not part of billing's public API document.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
    });
    // AdminJS's templates: the font from here instead of Google's servers, and a referrer
    // policy that lets the browser send Origin on the panel's own POSTs (the gateway's
    // `no-referrer` would make it "null", which the CSRF check refuses).
    scope.addHook('onSend', async (_request, reply, payload) => {
      if (typeof payload !== 'string' || !String(reply.getHeader('content-type')).startsWith('text/html'))
        return payload;
      return payload
        .replace(GOOGLE_FONTS_LINK, `<link rel="stylesheet" href="${own}/fonts.css" type="text/css">`)
        .replace(/<head>/, '<head><meta name="referrer" content="same-origin">');
    });

    await registerAdminAuth(scope, {
      admin,
      login: options.login,
      password: options.password,
      cookieSecret: options.cookieSecret,
      secureCookies: options.production,
      sessionTtlSeconds: options.sessionTtlSeconds,
      store: createAdminSessionStore({ db, ttlMs: options.sessionTtlSeconds * 1000 }),
      lockout: options.lockout,
      rateLimitPerMinute: options.loginRateLimitPerMinute,
      redis: options.redis,
      postActions: postActions(resources),
      publicRoutes: [`${own}/logo.svg`, `${own}/fonts.css`, `${own}/fonts/:file`],
      ...(options.viaAuth ? { viaAuth: options.viaAuth } : {}),
    });

    const cached = { 'cache-control': 'public, max-age=86400' };
    scope.get(`${own}/logo.svg`, async (_request, reply) =>
      reply
        .headers(cached)
        .type('image/svg+xml')
        .send(await readFile(LOGO)),
    );
    scope.get(`${own}/fonts.css`, async (_request, reply) =>
      reply
        .headers(cached)
        .type('text/css')
        .send(fontFaces(`${own}/fonts`)),
    );
    scope.get<{ Params: { file: string } }>(`${own}/fonts/:file`, async (request, reply) => {
      const file = request.params.file;
      // Only the four files fonts.css names: nothing else from disk.
      if (!FONT_WEIGHTS.some((weight) => file === `roboto-latin-${weight}-normal.woff2`))
        return reply.callNotFound();
      return reply
        .headers(cached)
        .type('font/woff2')
        .send(await readFile(path.join(FONT_DIR, file)));
    });

    await AdminJSFastify.buildRouter(admin, scope);
  });
}
