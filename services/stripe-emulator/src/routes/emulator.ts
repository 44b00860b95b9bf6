/**
 * The `_emulator` control API for tests and dev tools: move time, inject
 * webhook faults, read deliveries, reset. Same API key as `/v1`.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Emulator } from '../domain/core/emulator.js';
import { advanceTime } from '../domain/test-clocks/scheduler.js';
import { checkApiKey } from './v1/index.js';

const AdvanceBody = Type.Object({ seconds: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

const ConfigBody = Type.Object(
  {
    duplicate_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    shuffle: Type.Optional(Type.Boolean()),
    delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
    fail_first_attempts: Type.Optional(Type.Integer({ minimum: 0 })),
    webhook_retry_base_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    webhook_max_attempts: Type.Optional(Type.Integer({ minimum: 1 })),
    payment_retry_days: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }))),
    after_final_retry: Type.Optional(
      Type.Union([Type.Literal('cancel'), Type.Literal('unpaid'), Type.Literal('past_due')]),
    ),
  },
  { additionalProperties: false },
);

const DeliveriesQuery = Type.Object(
  {
    event_id: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    ),
    endpoint_id: Type.Optional(Type.String()),
    /** Wait up to this long for every queued delivery to finish (or give up) before answering. */
    wait_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  },
  { additionalProperties: false },
);

export interface EmulatorRouteOptions {
  em: Emulator;
  reset: () => void;
}

export async function emulatorRoutes(app: FastifyInstance, opts: EmulatorRouteOptions): Promise<void> {
  const { em } = opts;
  app.addHook('onRequest', async (request) => checkApiKey(request, em.config.apiKey));

  const currentConfig = () => ({
    ...em.webhooks.faults,
    webhook_retry_base_ms: em.webhooks.settings.retryBaseMs,
    webhook_max_attempts: em.webhooks.settings.maxAttempts,
    payment_retry_days: em.payments.retryDays,
    after_final_retry: em.payments.afterFinalRetry,
  });

  app.get('/_emulator/time', async () => ({ now: em.now(), offset_seconds: em.store.clockOffset }));

  app.post<{ Body: Static<typeof AdvanceBody> }>(
    '/_emulator/advance-time',
    { schema: { body: AdvanceBody } },
    async (request) => advanceTime(em, request.body.seconds),
  );

  app.get('/_emulator/config', async () => currentConfig());

  app.post<{ Body: Static<typeof ConfigBody> }>(
    '/_emulator/config',
    { schema: { body: ConfigBody } },
    async (request) => {
      const b = request.body;
      const f = em.webhooks.faults;
      if (b.duplicate_rate !== undefined) f.duplicate_rate = b.duplicate_rate;
      if (b.shuffle !== undefined) f.shuffle = b.shuffle;
      if (b.delay_ms !== undefined) f.delay_ms = b.delay_ms;
      if (b.fail_first_attempts !== undefined) f.fail_first_attempts = b.fail_first_attempts;
      if (b.webhook_retry_base_ms !== undefined) em.webhooks.settings.retryBaseMs = b.webhook_retry_base_ms;
      if (b.webhook_max_attempts !== undefined) em.webhooks.settings.maxAttempts = b.webhook_max_attempts;
      if (b.payment_retry_days !== undefined) em.payments.retryDays = b.payment_retry_days;
      if (b.after_final_retry !== undefined) em.payments.afterFinalRetry = b.after_final_retry;
      return currentConfig();
    },
  );

  app.post('/_emulator/reset', async () => {
    opts.reset();
    return { reset: true, now: em.now() };
  });

  app.get<{ Querystring: Static<typeof DeliveriesQuery> }>(
    '/_emulator/deliveries',
    { schema: { querystring: DeliveriesQuery } },
    async (request) => {
      const q = request.query;
      if (q.wait_ms) {
        await Promise.race([
          em.webhooks.idle(),
          new Promise((resolve) => setTimeout(resolve, q.wait_ms).unref()),
        ]);
      }
      const data = [...em.store.deliveries.items.values()].filter(
        (d) =>
          (q.event_id === undefined || d.event_id === q.event_id) &&
          (q.type === undefined || d.event_type === q.type) &&
          (q.status === undefined || d.status === q.status) &&
          (q.endpoint_id === undefined || d.endpoint_id === q.endpoint_id),
      );
      return { object: 'list', data, pending: em.webhooks.pendingCount(), idle: em.webhooks.isIdle() };
    },
  );
}
