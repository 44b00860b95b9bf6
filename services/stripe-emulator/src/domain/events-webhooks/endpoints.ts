/** Webhook endpoints (`/v1/webhook_endpoints`) and the one registered from the environment. */
import type Stripe from 'stripe';
import type { Emulator } from '../core/emulator.js';
import { invalidRequest } from '../core/errors.js';
import { newId, randomToken } from '../core/ids.js';
import { paginate } from '../core/list.js';
import { matchesRange, Params } from '../core/params.js';
import { API_VERSION } from '../core/shapes.js';

export const ENV_ENDPOINT_ID = 'we_env_endpoint';

function validUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function registerEndpoint(
  em: Emulator,
  input: {
    id?: string;
    url: string;
    secret?: string;
    events: string[];
    description?: string | null;
    metadata?: Stripe.Metadata;
  },
): Stripe.WebhookEndpoint {
  const secret = input.secret ?? `whsec_${randomToken(32)}`;
  const endpoint: Stripe.WebhookEndpoint = {
    id: input.id ?? newId('we'),
    object: 'webhook_endpoint',
    api_version: API_VERSION,
    application: null,
    created: em.now(),
    description: input.description ?? null,
    enabled_events: input.events,
    livemode: false,
    metadata: input.metadata ?? {},
    status: 'enabled',
    url: input.url,
  };
  em.store.webhookEndpoints.put({ id: endpoint.id, endpoint, secret });
  em.changed();
  return { ...endpoint, secret };
}

export function createWebhookEndpoint(em: Emulator, p: Params): Stripe.WebhookEndpoint {
  const params = new Params(p.raw, [
    'url',
    'enabled_events',
    'description',
    'metadata',
    'api_version',
    'connect',
  ]);
  const url = params.requiredString('url');
  if (!validUrl(url)) throw invalidRequest('Invalid URL: must be an http(s) URL.', 'url', 'url_invalid');
  const events = params.stringArray('enabled_events');
  if (!events || events.length === 0)
    throw invalidRequest('Missing required param: enabled_events.', 'enabled_events', 'parameter_missing');
  const apiVersion = params.string('api_version');
  if (apiVersion && apiVersion !== API_VERSION) {
    throw invalidRequest(
      `The emulator renders events only in ${API_VERSION}, the version the stripe package pins.`,
      'api_version',
    );
  }
  return registerEndpoint(em, {
    url,
    events,
    description: params.nullableString('description') ?? null,
    metadata: params.metadata() ?? {},
  });
}

export function retrieveWebhookEndpoint(em: Emulator, id: string): Stripe.WebhookEndpoint {
  return em.store.webhookEndpoints.require(id).endpoint;
}

export function updateWebhookEndpoint(em: Emulator, id: string, p: Params): Stripe.WebhookEndpoint {
  const params = new Params(p.raw, ['url', 'enabled_events', 'description', 'metadata', 'disabled']);
  const { endpoint } = em.store.webhookEndpoints.require(id);
  const url = params.string('url');
  if (url !== undefined) {
    if (!validUrl(url)) throw invalidRequest('Invalid URL: must be an http(s) URL.', 'url', 'url_invalid');
    endpoint.url = url;
  }
  const events = params.stringArray('enabled_events');
  if (events) endpoint.enabled_events = events;
  if (params.has('description')) endpoint.description = params.nullableString('description') ?? null;
  const disabled = params.boolean('disabled');
  if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
  const metadata = params.metadata(endpoint.metadata);
  if (metadata) endpoint.metadata = metadata;
  em.changed();
  return endpoint;
}

export function listWebhookEndpoints(em: Emulator, p: Params): Stripe.ApiList<Stripe.WebhookEndpoint> {
  return paginate(
    em.store.webhookEndpoints.newestFirst().map((r) => r.endpoint),
    p,
    '/v1/webhook_endpoints',
    'webhook_endpoint',
  );
}

export function deleteWebhookEndpoint(em: Emulator, id: string): Stripe.DeletedWebhookEndpoint {
  em.store.webhookEndpoints.require(id);
  em.store.webhookEndpoints.delete(id);
  em.changed();
  return { id, object: 'webhook_endpoint', deleted: true };
}

export function listEvents(em: Emulator, p: Params): Stripe.ApiList<Stripe.Event> {
  const type = p.string('type');
  const types = p.stringArray('types');
  const matchType = (t: string) => {
    if (types) return types.includes(t);
    if (!type) return true;
    if (type.endsWith('*')) return t.startsWith(type.slice(0, -1));
    return t === type;
  };
  return paginate(
    em.store.events.newestFirst(),
    p,
    '/v1/events',
    'event',
    (e) => matchType(e.type) && matchesRange(p, 'created', e.created),
  );
}
