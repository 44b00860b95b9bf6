/**
 * npm run -s -w @tollgate/billing webhook-events
 * Prints the Stripe event types billing acts on, comma-separated: what a
 * webhook endpoint for billing should subscribe to (the Dashboard, the API's
 * `enabled_events`, or `stripe listen --events "$(…)"`). Needs no database.
 */
import { HANDLED_EVENT_TYPES } from '../domain/webhooks/event-types.js';

console.log(HANDLED_EVENT_TYPES.join(','));
