import { type Operation, op } from '../core/route.js';
import { cancelSubscription } from './cancel.js';
import { createSubscription } from './create.js';
import {
  createSubscriptionItem,
  deleteSubscriptionItem,
  listSubscriptionItems,
  retrieveSubscriptionItem,
  updateSubscriptionItem,
} from './items.js';
import { listSubscriptions, retrieveSubscription, searchSubscriptions } from './read.js';
import { updateSubscription } from './update.js';

export const subscriptionRoutes: Operation[] = [
  op('POST', '/v1/subscriptions', (c) => createSubscription(c.em, c.params, c.req)),
  op('GET', '/v1/subscriptions', (c) => listSubscriptions(c.em, c.params)),
  op('GET', '/v1/subscriptions/search', (c) => searchSubscriptions(c.em, c.params)),
  op('GET', '/v1/subscriptions/:id', (c) => retrieveSubscription(c.em, c.id)),
  op('POST', '/v1/subscriptions/:id', (c) => updateSubscription(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/subscriptions/:id', (c) => cancelSubscription(c.em, c.id, c.params, c.req)),

  op('POST', '/v1/subscription_items', (c) => createSubscriptionItem(c.em, c.params, c.req)),
  op('GET', '/v1/subscription_items', (c) => listSubscriptionItems(c.em, c.params)),
  op('GET', '/v1/subscription_items/:id', (c) => retrieveSubscriptionItem(c.em, c.id)),
  op('POST', '/v1/subscription_items/:id', (c) => updateSubscriptionItem(c.em, c.id, c.params, c.req)),
  op('DELETE', '/v1/subscription_items/:id', (c) => deleteSubscriptionItem(c.em, c.id, c.params, c.req)),
];
