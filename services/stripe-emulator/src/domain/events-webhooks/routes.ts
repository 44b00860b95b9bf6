import { type Operation, op } from '../core/route.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listEvents,
  listWebhookEndpoints,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from './endpoints.js';

export const eventRoutes: Operation[] = [
  op('GET', '/v1/events', (c) => listEvents(c.em, c.params)),
  op('GET', '/v1/events/:id', (c) => c.em.store.events.require(c.id)),

  op('POST', '/v1/webhook_endpoints', (c) => createWebhookEndpoint(c.em, c.params)),
  op('GET', '/v1/webhook_endpoints', (c) => listWebhookEndpoints(c.em, c.params)),
  op('GET', '/v1/webhook_endpoints/:id', (c) => retrieveWebhookEndpoint(c.em, c.id)),
  op('POST', '/v1/webhook_endpoints/:id', (c) => updateWebhookEndpoint(c.em, c.id, c.params)),
  op('DELETE', '/v1/webhook_endpoints/:id', (c) => deleteWebhookEndpoint(c.em, c.id)),
];
