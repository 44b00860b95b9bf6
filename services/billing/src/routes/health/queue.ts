/**
 * GET /health/queue: the queue's counters, for whoever watches billing (no
 * gateway route; like /health/ready it is served on billing's own port).
 * Dead events, how many automatic re-drives happened, events left dead after
 * every re-drive (these need an admin), role syncs waiting on auth, and the
 * Stripe catch-up's last run.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Billing } from '../../context.js';

const Counts = {
  type: 'object',
  additionalProperties: false,
  required: ['webhook_events', 'role_syncs', 'stripe_catchup'],
  properties: {
    webhook_events: {
      type: 'object',
      additionalProperties: false,
      required: ['waiting', 'dead', 'redriven', 'dead_after_redrives'],
      properties: {
        waiting: { type: 'integer' },
        dead: { type: 'integer' },
        redriven: { type: 'integer', description: 'automatic re-drives so far' },
        dead_after_redrives: { type: 'integer', description: 'dead with every automatic re-drive used' },
      },
    },
    role_syncs: {
      type: 'object',
      additionalProperties: false,
      required: ['pending', 'retrying'],
      properties: { pending: { type: 'integer' }, retrying: { type: 'integer' } },
    },
    stripe_catchup: {
      type: 'object',
      additionalProperties: false,
      required: ['last_run_at', 'read_until', 'last_found'],
      properties: {
        last_run_at: { type: ['string', 'null'], format: 'date-time' },
        read_until: { type: ['string', 'null'], format: 'date-time' },
        last_found: { type: 'integer', description: 'events the last run found missing from the inbox' },
      },
    },
  },
} as const;

export const queueHealthRoutes: FastifyPluginAsync<{ billing: Billing }> = async (app, { billing }) => {
  app.get(
    '/health/queue',
    { schema: { tags: ['health'], summary: 'Queue counters', response: { 200: Counts } }, logLevel: 'warn' },
    async () => {
      const [events, syncs, cursor] = await Promise.all([
        billing.inbox.stats(billing.config.worker.webhookRedriveLimit),
        billing.roleSyncAdmin.stats(),
        billing.db.stripeCursor.findUnique({ where: { id: 'events' } }),
      ]);
      return {
        webhook_events: {
          waiting: events.waiting,
          dead: events.dead,
          redriven: events.redriven,
          dead_after_redrives: events.exhausted,
        },
        role_syncs: syncs,
        stripe_catchup: {
          last_run_at: cursor?.lastRunAt.toISOString() ?? null,
          read_until: cursor?.createdUntil.toISOString() ?? null,
          last_found: cursor?.lastAccepted ?? 0,
        },
      };
    },
  );
};
