/**
 * The AdminJS panel at /admin: the billing tables, actions that act on
 * Stripe through billing's own services, and a dashboard. Mounted in its own
 * Fastify scope (it brings its own cookie, session and form parsers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import AdminJSFastify from '@adminjs/fastify';
import { Database, getModelByName, Resource } from '@adminjs/prisma';
import AdminJS, {
  type ActionContext,
  type ActionRequest,
  type ActionResponse,
  ComponentLoader,
} from 'adminjs';
import type { FastifyInstance } from 'fastify';
import type { PrismaClient } from '../generated/prisma/client.js';
import { dashboardStats } from './dashboard-stats.js';
import { loadDatamodel } from './dmmf.js';

AdminJS.registerAdapter({ Database, Resource });

/** What the admin can do beyond editing rows; each is one call into billing's services. */
export interface AdminActions {
  cancelSubscriptionNow(subscriptionId: string): Promise<string>;
  refundLatestInvoice(subscriptionId: string): Promise<string>;
  resyncCustomer(customerId: string): Promise<string>;
  replayWebhookEvent(eventId: string): Promise<string>;
  retryRoleSync(roleSyncId: string): Promise<string>;
}

export interface AdminOptions {
  db: PrismaClient;
  login: string;
  password: string;
  /** Signs the session cookie; at least 32 characters. */
  cookieSecret: string;
  /** Secure cookies (HTTPS only) in production. */
  secureCookies: boolean;
  actions: AdminActions;
  rootPath?: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function recordAction(
  label: string,
  guard: string,
  run: (id: string) => Promise<string>,
  isAccessible?: (context: ActionContext) => boolean,
) {
  return {
    actionType: 'record' as const,
    icon: 'Zap',
    label,
    guard,
    component: false as const,
    isAccessible: isAccessible ?? true,
    handler: async (
      _request: ActionRequest,
      _response: unknown,
      context: ActionContext,
    ): Promise<ActionResponse> => {
      const record = context.record!;
      try {
        const message = await run(String(record.id()));
        const fresh = await context.resource.findOne(String(record.id()));
        return {
          record: (fresh ?? record).toJSON(context.currentAdmin),
          notice: { message, type: 'success' },
        };
      } catch (error) {
        return {
          record: record.toJSON(context.currentAdmin),
          notice: { message: `${label} failed: ${(error as Error).message}`, type: 'error' },
        };
      }
    },
  };
}

export async function registerAdmin(app: FastifyInstance, options: AdminOptions): Promise<void> {
  const { db, actions } = options;
  const clientModule = { Prisma: { dmmf: { datamodel: loadDatamodel() } } };
  const model = (name: string) => ({ model: getModelByName(name, clientModule), client: db, clientModule });
  const componentLoader = new ComponentLoader();
  const Dashboard = componentLoader.add(
    'Dashboard',
    path.join(import.meta.dirname, 'components', 'dashboard.tsx'),
  );
  const readOnly = {
    new: { isAccessible: false },
    edit: { isAccessible: false },
    delete: { isAccessible: false },
  };
  const rawHidden = { raw: { isVisible: { list: false, filter: false, show: true, edit: false } } };
  const stripeMirror = { navigation: { name: 'Stripe mirror', icon: 'CreditCard' } };
  const operations = { navigation: { name: 'Operations', icon: 'Activity' } };

  const admin = new AdminJS({
    rootPath: options.rootPath ?? '/admin',
    componentLoader,
    branding: { companyName: 'tollgate billing', withMadeWithLove: false },
    dashboard: { component: Dashboard, handler: async () => dashboardStats(db) },
    resources: [
      {
        resource: model('Customer'),
        options: {
          ...stripeMirror,
          properties: rawHidden,
          actions: {
            ...readOnly,
            resync: recordAction(
              'Resync from Stripe',
              'Fetch this customer and its subscriptions and invoices from Stripe again?',
              actions.resyncCustomer,
            ),
          },
        },
      },
      {
        resource: model('Subscription'),
        options: {
          ...stripeMirror,
          properties: rawHidden,
          actions: {
            ...readOnly,
            cancelNow: recordAction(
              'Cancel now',
              'Cancel this subscription at Stripe immediately (no refund)?',
              actions.cancelSubscriptionNow,
              (context) =>
                !['canceled', 'incomplete_expired'].includes(String(context.record?.param('status'))),
            ),
            refundLatest: recordAction(
              'Refund latest invoice',
              'Refund the latest paid invoice of this subscription in full?',
              actions.refundLatestInvoice,
            ),
          },
        },
      },
      { resource: model('Product'), options: { ...stripeMirror, properties: rawHidden, actions: readOnly } },
      { resource: model('Price'), options: { ...stripeMirror, properties: rawHidden, actions: readOnly } },
      { resource: model('Invoice'), options: { ...stripeMirror, properties: rawHidden, actions: readOnly } },
      {
        resource: model('WebhookEvent'),
        options: {
          ...operations,
          properties: { payload: { isVisible: { list: false, filter: false, show: true, edit: false } } },
          actions: {
            ...readOnly,
            replay: recordAction('Replay', 'Process this event again?', actions.replayWebhookEvent),
          },
        },
      },
      {
        resource: model('RoleSync'),
        options: {
          ...operations,
          actions: {
            ...readOnly,
            retry: recordAction('Retry', 'Run this role sync again now?', actions.retryRoleSync),
          },
        },
      },
    ],
  });
  // Bundles the custom components (the dashboard) once, offline.
  await admin.initialize();

  const expectedLogin = digest(options.login);
  const expectedPassword = digest(options.password);
  await app.register(async (scope) => {
    // The panel's pages, API and assets are not part of billing's public API document.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
    });
    await AdminJSFastify.buildAuthenticatedRouter(
      admin,
      {
        cookieName: 'tollgate_admin',
        cookiePassword: options.cookieSecret,
        // Both compared in constant time, and both always compared.
        authenticate: async (login: string, password: string) => {
          const loginOk = timingSafeEqual(digest(login), expectedLogin);
          const passwordOk = timingSafeEqual(digest(password), expectedPassword);
          return loginOk && passwordOk ? { email: options.login, title: 'admin' } : null;
        },
      },
      scope,
      {
        secret: options.cookieSecret,
        saveUninitialized: false,
        cookie: {
          secure: options.secureCookies,
          httpOnly: true,
          sameSite: 'lax',
          path: options.rootPath ?? '/admin',
        },
      },
    );
  });
}
