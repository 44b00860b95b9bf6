/**
 * What the panel shows and lets an admin do: the billing tables as AdminJS
 * resources (read-only mirrors, newest first, money as money, raw Stripe
 * objects as formatted JSON) and the record actions that act through
 * billing's services.
 *
 * Every state-changing action follows AdminJS's own protocol for actions with
 * a form (like its built-in edit): a GET only returns the record, the work is
 * done on POST. The panel's request guard (admin-auth.ts) lets a POST through
 * only for the actions listed in `postActions`, with a same-origin Origin and
 * the session's CSRF token; every built-in action that writes is switched off
 * here and refused there.
 */
import { getModelByName } from '@adminjs/prisma';
import type {
  ActionContext,
  ActionRequest,
  ActionResponse,
  ComponentLoader,
  ResourceWithOptions,
} from 'adminjs';
import { flat } from 'adminjs';
import type { UserHistory } from '../domain/audit/audit-log.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { DmmfDatamodel } from './dmmf.js';

/** What the admin can do beyond reading rows; each is one call into billing's services. */
export interface AdminActions {
  cancelSubscriptionNow(subscriptionId: string): Promise<string>;
  refundLatestInvoice(subscriptionId: string): Promise<string>;
  resyncCustomer(customerId: string): Promise<string>;
  replayWebhookEvent(eventId: string): Promise<string>;
  retryRoleSync(roleSyncId: string): Promise<string>;
  /** "Why does this user have this?": both services' audit entries about the user, newest first. */
  userHistory(userId: string): Promise<UserHistory>;
}

export interface AdminComponents {
  ConfirmAction: string;
  Money: string;
  Json: string;
}

/** Built-in actions that write: off on every resource (the panel mirrors Stripe; change things there). */
const readOnly = {
  new: { isAccessible: false },
  edit: { isAccessible: false },
  delete: { isAccessible: false },
  bulkDelete: { isAccessible: false },
};

function recordAction(
  components: AdminComponents,
  label: string,
  question: string,
  run: (id: string) => Promise<string>,
  isAccessible?: (context: ActionContext) => boolean,
) {
  return {
    actionType: 'record' as const,
    icon: 'Zap',
    // The component asks, then POSTs with the CSRF token; the handler acts only on that POST.
    component: components.ConfirmAction,
    custom: { question },
    isAccessible: isAccessible ?? true,
    handler: async (
      request: ActionRequest,
      _response: unknown,
      context: ActionContext,
    ): Promise<ActionResponse> => {
      const record = context.record!;
      if (request.method !== 'post') return { record: record.toJSON(context.currentAdmin) };
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

export interface ResourceOptions {
  db: PrismaClient;
  datamodel: DmmfDatamodel;
  actions: AdminActions;
  components: AdminComponents;
}

export function adminResources(options: ResourceOptions): ResourceWithOptions[] {
  const { db, actions, components } = options;
  const labels = actionLabels();
  const clientModule = { Prisma: { dmmf: { datamodel: options.datamodel } } };
  const model = (name: string) => ({ model: getModelByName(name, clientModule), client: db, clientModule });
  const json = (list = false) => ({
    type: 'mixed' as const,
    isVisible: { list, filter: false, show: true, edit: false },
    components: { show: components.Json },
  });
  const money = { components: { list: components.Money, show: components.Money } };
  const newestFirst = (sortBy: string) => ({ sort: { sortBy, direction: 'desc' as const } });
  const stripeMirror = { navigation: { name: 'Stripe mirror', icon: 'CreditCard' } };
  const operations = { navigation: { name: 'Operations', icon: 'Activity' } };
  const entitlements = { navigation: { name: 'Entitlements', icon: 'Award' } };
  const ask = (
    label: string,
    question: string,
    run: (id: string) => Promise<string>,
    isAccessible?: (context: ActionContext) => boolean,
  ) => recordAction(components, label, question, run, isAccessible);

  return [
    {
      resource: model('Customer'),
      options: {
        ...stripeMirror,
        ...newestFirst('createdAt'),
        properties: {
          raw: json(),
          // Not a column: filled in by the show action below from both services' audit logs.
          history: json(),
        },
        actions: {
          ...readOnly,
          show: {
            after: async (response: ActionResponse) => {
              const userId = response.record?.params?.userId;
              if (typeof userId !== 'string' || userId === '') return response;
              const history = await actions.userHistory(userId);
              Object.assign(response.record.params, flat.flatten({ history }));
              return response;
            },
          },
          resync: ask(
            labels.resync!,
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
        ...newestFirst('stripeCreatedAt'),
        properties: { raw: json() },
        actions: {
          ...readOnly,
          cancelNow: ask(
            labels.cancelNow!,
            'Cancel this subscription at Stripe immediately (no refund)?',
            actions.cancelSubscriptionNow,
            (context) =>
              !['canceled', 'incomplete_expired'].includes(String(context.record?.param('status'))),
          ),
          refundLatest: ask(
            labels.refundLatest!,
            'Refund the latest paid invoice of this subscription in full?',
            actions.refundLatestInvoice,
          ),
        },
      },
    },
    {
      resource: model('Product'),
      options: { ...stripeMirror, properties: { raw: json() }, actions: readOnly },
    },
    {
      resource: model('Price'),
      options: {
        ...stripeMirror,
        properties: { raw: json(), unitAmount: money },
        actions: readOnly,
      },
    },
    {
      resource: model('Invoice'),
      options: {
        ...stripeMirror,
        ...newestFirst('stripeCreatedAt'),
        properties: { raw: json(), amountDue: money, amountPaid: money, total: money },
        actions: readOnly,
      },
    },
    {
      resource: model('WebhookEvent'),
      options: {
        ...operations,
        ...newestFirst('receivedAt'),
        properties: { payload: json() },
        actions: {
          ...readOnly,
          replay: ask(labels.replay!, 'Process this event again?', actions.replayWebhookEvent),
        },
      },
    },
    {
      resource: model('RoleSync'),
      options: {
        ...operations,
        ...newestFirst('createdAt'),
        actions: {
          ...readOnly,
          retry: ask(labels.retry!, 'Run this role sync again now?', actions.retryRoleSync),
        },
      },
    },
    {
      resource: model('UserEntitlements'),
      options: {
        ...entitlements,
        ...newestFirst('updatedAt'),
        properties: { features: json(), roles: json(), sources: json() },
        actions: readOnly,
      },
    },
    {
      resource: model('EntitlementChange'),
      options: {
        ...entitlements,
        ...newestFirst('createdAt'),
        properties: { previous: json(), features: json(), cause: json() },
        actions: readOnly,
      },
    },
    {
      resource: model('Purchase'),
      options: {
        ...entitlements,
        ...newestFirst('purchasedAt'),
        properties: { raw: json() },
        actions: readOnly,
      },
    },
  ];
}

/** The (resource, action) pairs a POST may reach: the custom record actions above, nothing built in. */
export function postActions(resources: ResourceWithOptions[]): Set<string> {
  const allowed = new Set<string>();
  for (const { resource, options } of resources) {
    const id = (resource as { model: { name: string } }).model.name;
    for (const [name, action] of Object.entries(options.actions ?? {})) {
      if (action && 'handler' in action && action.actionType === 'record') allowed.add(`${id}/${name}`);
    }
  }
  return allowed;
}

/** The buttons' names (AdminJS labels an action by translating its name). */
export function actionLabels(): Record<string, string> {
  return {
    resync: 'Resync from Stripe',
    cancelNow: 'Cancel now',
    refundLatest: 'Refund latest invoice',
    replay: 'Replay',
    retry: 'Retry',
  };
}

export function registerComponents(loader: ComponentLoader, dir: string): AdminComponents {
  return {
    ConfirmAction: loader.add('ConfirmAction', `${dir}/confirm-action.tsx`),
    Money: loader.add('Money', `${dir}/money.tsx`),
    Json: loader.add('Json', `${dir}/json.tsx`),
  };
}
