/**
 * Prometheus metrics every tollgate service exposes (ADR 0016): a registry
 * per app (tests build several apps in one process, and prom-client's global
 * registry would mix their series), the process metrics, HTTP RED metrics by
 * route pattern, and `GET /metrics`.
 *
 * Labels are bounded: `route` is Fastify's route pattern
 * (`/api/v1/subscription`, `/v1/users/:id`), never the raw URL, and a request
 * that matched no route is `route="unmatched"`, so a scanner walking random
 * paths cannot create series.
 *
 * The gateway never routes /metrics (nginx answers 404 for it); where the
 * services' ports are reachable by more than the scraper, METRICS_TOKEN
 * makes /metrics answer only to `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { ProblemError } from './problem.js';

export { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Buckets for request and dependency latencies, in seconds (5 ms .. 10 s). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A registry with the process metrics (`process_*`, `nodejs_*`) and `service="<name>"` on every series. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsPluginOptions {
  registry: Registry;
  /** When set, /metrics answers only to `Authorization: Bearer <token>` (METRICS_TOKEN). */
  token?: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time: the comparison takes as long whatever the token's prefix matches. */
function bearerMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(presented), digest(token));
}

/**
 * HTTP RED metrics for every route of the app, and `GET /metrics`.
 * Registered at the root (fastify-plugin), so its hooks see every request.
 */
export const metricsPlugin = fp<MetricsPluginOptions>(
  async (app: FastifyInstance, { registry, token }) => {
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request received to response sent, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });

    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      };
      requests.inc(labels);
      duration.observe(labels, reply.elapsedTime / 1000);
    });

    app.get(
      '/metrics',
      // Kept out of the API documents by hidePrivateRoutes. The scraper polls it:
      // a log line per scrape would drown the request log.
      { logLevel: 'warn' },
      async (request, reply) => {
        if (token && !bearerMatches(request, token))
          throw new ProblemError(
            401,
            'metrics_token_invalid',
            'Metrics token not accepted',
            'send the METRICS_TOKEN this service was started with as a bearer token',
            {},
            { 'www-authenticate': 'Bearer realm="metrics"' },
          );
        return reply.type(registry.contentType).send(await registry.metrics());
      },
    );
  },
  { name: 'tollgate-metrics', fastify: '5.x' },
);
