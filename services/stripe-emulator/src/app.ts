/**
 * buildApp(config): the emulator as a Fastify instance. It never listens;
 * server.ts and index.ts (the library entry) do.
 */

import {
  Counter,
  createMetricsRegistry,
  Histogram,
  LATENCY_BUCKETS,
  metricsPlugin,
} from '@tollgate/service-kit';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import qs from 'qs';
import type { EmulatorConfig } from './config.js';
import { Emulator } from './domain/core/emulator.js';
import { notEmulated, StripeApiError } from './domain/core/errors.js';
import { requestId } from './domain/core/ids.js';
import { StateFile } from './domain/core/persistence.js';
import { watchEntitlements } from './domain/entitlements/entitlements.js';
import { ENV_ENDPOINT_ID, registerEndpoint } from './domain/events-webhooks/endpoints.js';
import { readCatalogue, seedCatalogue } from './domain/products-prices/seed.js';
import { runUntil } from './domain/test-clocks/scheduler.js';
import { emulatorRoutes } from './routes/emulator.js';
import { checkoutPages } from './routes/pages/checkout.js';
import { portalPages } from './routes/pages/portal.js';
import { v1Routes } from './routes/v1/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    emulator: Emulator;
  }
}

export interface AppDeps {
  /** Wall clock in ms (tests of time-dependent code may pass a fake). */
  wallClockMs?: () => number;
  /** Where log lines go (default stdout); `npm start` passes its log files and terminal. */
  logStream?: { write(line: string): unknown };
}

const QS_OPTIONS: qs.IParseOptions = { depth: 10, arrayLimit: 1000, parameterLimit: 10_000 };

export async function buildApp(config: EmulatorConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      name: 'emulator',
      ...(deps.logStream ? { stream: deps.logStream } : {}),
      redact: ['req.headers.authorization', 'req.headers["stripe-signature"]', 'req.headers.cookie'],
    },
    genReqId: () => requestId(),
    requestIdHeader: false,
    routerOptions: { querystringParser: (s: string) => qs.parse(s, QS_OPTIONS) },
    bodyLimit: 1024 * 1024,
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, qs.parse(body as string, QS_OPTIONS));
  });

  const em = new Emulator(config, app.log, deps.wallClockMs);
  watchEntitlements(em);
  app.decorate('emulator', em);

  const stateFile = config.stateFile ? new StateFile(config.stateFile, em.store) : null;
  const catalogue = config.seed ? readCatalogue(config.seedFile) : null;

  const registerEnvEndpoint = () => {
    if (!config.webhookUrl) return;
    registerEndpoint(em, {
      id: ENV_ENDPOINT_ID,
      url: config.webhookUrl,
      secret: config.webhookSecret,
      events: config.webhookEvents,
      description: 'Registered from EMULATOR_WEBHOOK_URL',
    });
  };
  const reset = () => {
    em.webhooks.clear();
    em.store.clear();
    if (catalogue) seedCatalogue(em, catalogue);
    registerEnvEndpoint();
    em.changed();
  };

  const loaded = stateFile?.load() ?? false;
  if (loaded) {
    app.log.info({ file: config.stateFile }, 'emulator state loaded');
    // The env endpoint follows the environment, not the saved state.
    em.store.webhookEndpoints.delete(ENV_ENDPOINT_ID);
    registerEnvEndpoint();
    em.webhooks.resume();
  } else {
    reset();
  }
  if (stateFile) em.onChange(() => stateFile.scheduleSave());

  app.setErrorHandler((error: FastifyError | StripeApiError, request, reply) => {
    if (error instanceof StripeApiError) {
      return reply.code(error.statusCode).send({ error: error.body });
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      return reply.code(status).send({
        error: { type: 'invalid_request_error', message: error.message, code: error.code?.toLowerCase() },
      });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send({ error: { type: 'api_error', message: 'An unknown error occurred in the emulator.' } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/v1/') || path.startsWith('/v2/')) {
      const err = notEmulated(request.method, path);
      return reply.code(err.statusCode).header('request-id', request.id).send({ error: err.body });
    }
    return reply.code(404).send({ error: { type: 'invalid_request_error', message: `Not found: ${path}` } });
  });

  await app.register(metricsPlugin, { registry: deliveryMetrics(em) });
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async () => ({ status: 'ok' }));

  await app.register(v1Routes, { em });
  await app.register(emulatorRoutes, { em, reset });
  await app.register(checkoutPages, { em });
  await app.register(portalPages, { em });

  // Wall-clock time also passes: run what falls due (renewals, expiries) without an explicit advance.
  let ticker: NodeJS.Timeout | null = null;
  app.addHook('onReady', async () => {
    ticker = setInterval(() => {
      try {
        runUntil(em, null, em.now());
      } catch (err) {
        app.log.error({ err }, 'scheduled work failed');
      }
    }, config.tickMs);
    ticker.unref();
  });
  app.addHook('onClose', async () => {
    if (ticker) clearInterval(ticker);
    em.webhooks.close();
    stateFile?.flush();
  });

  return app;
}

/**
 * The emulator's /metrics: HTTP RED and process metrics like every service,
 * and its webhook deliveries (attempts by result, ones it gave up on).
 */
function deliveryMetrics(em: Emulator) {
  const registry = createMetricsRegistry('stripe-emulator');
  const attempts = new Counter({
    name: 'emulator_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by result (succeeded: a 2xx; failed: anything else, or no answer)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const gaveUp = new Counter({
    name: 'emulator_webhook_deliveries_failed_total',
    help: 'Webhook deliveries given up on after the last attempt',
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'emulator_webhook_delivery_duration_seconds',
    help: 'Time one delivery attempt took (until the endpoint answered)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  gaveUp.inc(0);
  em.webhooks.onAttempt = ({ ok, gaveUp: final, seconds }) => {
    attempts.inc({ result: ok ? 'succeeded' : 'failed' });
    if (final) gaveUp.inc();
    duration.observe(seconds);
  };
  return registry;
}
