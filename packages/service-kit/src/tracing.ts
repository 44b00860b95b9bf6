/**
 * OpenTelemetry tracing, set up in one place (ADR 0025). `startTracing` is
 * called first thing by each process; it exports spans by OTLP (http/json)
 * when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set and is
 * otherwise off: the API's no-op tracer, no context manager, no exporter.
 *
 * Instrumentation is manual, not require-in-the-middle auto-instrumentation:
 * the production build bundles every module with esbuild, and bundled modules
 * are never patched. The spans come from Fastify's hooks (one server span per
 * request, see `tracingHooks`), `clientSpan` around outgoing calls (the
 * Stripe SDK's HTTP client, the auth client's fetch) and `jobSpan` around
 * queue jobs, which continue the trace stored with the job (`currentTraceparent`).
 */

import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTraceNode from '@opentelemetry/sdk-trace-node';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';

const TRACER_NAME = '@tollgate/service-kit';
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface Tracing {
  /** Whether spans are recorded and exported. */
  readonly enabled: boolean;
  /** Exports what is buffered (tests; before exit). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Starts tracing for this process, once (later calls return the first
 * handle). `env` is the process environment: OTEL_EXPORTER_OTLP_ENDPOINT
 * (base URL, `/v1/traces` is appended), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * (full URL), OTEL_SERVICE_NAME (overrides `serviceName`), OTEL_SDK_DISABLED.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (active) return active;
  // The propagator alone costs nothing per request and lets an incoming
  // traceparent's trace id reach logs and problem bodies even when off.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const full = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if ((!base && !full) || env.OTEL_SDK_DISABLED === 'true') {
    active = { enabled: false, flush: async () => {}, shutdown: async () => {} };
    return active;
  }
  const url = full || `${base?.replace(/\/+$/, '')}/v1/traces`;
  // The SDK and its exporter (about 200 modules, some 10 MB of RSS) are loaded
  // only when tracing is on: every process imports this module, few export
  // spans (ADR 0020, "Memory"). Synchronously, so that no span of the start is
  // lost; they are CommonJS, the same instances an `import` gets. Resolved
  // from the running file (import.meta.filename), as an import would be.
  const load = createRequire(import.meta.filename);
  const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  const { resourceFromAttributes } = load('@opentelemetry/resources') as typeof Resources;
  const { BatchSpanProcessor, NodeTracerProvider } = load(
    '@opentelemetry/sdk-trace-node',
  ) as typeof SdkTraceNode;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // Installs the AsyncLocalStorage context manager and the W3C propagator globally.
  provider.register();
  active = {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return active;
}

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/** The W3C traceparent of the active span, to store with queued work; null when there is none. */
export function currentTraceparent(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent && TRACEPARENT.test(carrier.traceparent) ? carrier.traceparent : null;
}

/** The trace id of the active span, or undefined (no span, or tracing off without an incoming traceparent). */
export function currentTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  const id = span?.spanContext().traceId;
  return id && trace.isSpanContextValid(span.spanContext()) ? id : undefined;
}

function endWith(span: Span, error: unknown) {
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
  span.end();
}

/**
 * Runs an outgoing call in a client span; `headers` carries the span's
 * traceparent for the callee. The span ends when the promise settles.
 */
export async function clientSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  call: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes });
  const ctx = trace.setSpan(context.active(), span);
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  try {
    const result = await context.with(ctx, () => call(headers));
    const status = (result as { status?: unknown; statusCode?: unknown }) ?? {};
    const code = typeof status.status === 'number' ? status.status : status.statusCode;
    if (typeof code === 'number') {
      span.setAttribute('http.response.status_code', code);
      if (code >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    return result;
  } catch (error) {
    endWith(span, error);
    throw error;
  }
}

function contextOf(traceparent: string | null | undefined): Context {
  return typeof traceparent === 'string' && TRACEPARENT.test(traceparent)
    ? propagation.extract(ROOT_CONTEXT, { traceparent })
    : ROOT_CONTEXT;
}

/**
 * Runs a queue job in a consumer span that continues the trace of the work
 * that queued it (`traceparent` stored with the job), or starts a new trace.
 */
export async function jobSpan<T>(
  name: string,
  traceparent: string | null | undefined,
  attributes: Record<string, string | number>,
  run: () => Promise<T>,
  /** Another span the job follows from (e.g. the webhook delivery), recorded as a link. */
  linkTo?: string | null,
): Promise<T> {
  const parent = contextOf(traceparent);
  const linked = linkTo ? trace.getSpanContext(contextOf(linkTo)) : undefined;
  const span = tracer().startSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, ...(linked ? { links: [{ context: linked }] } : {}) },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), run);
    span.end();
    return result;
  } catch (error) {
    endWith(span, error);
    throw error;
  }
}

/** A `fetch` whose requests are client spans carrying traceparent (for the auth client). */
export function tracedFetch(inner: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = init?.method ?? 'GET';
    return clientSpan(
      `${method} ${url.pathname}`,
      { 'http.request.method': method, 'server.address': url.hostname, 'url.path': url.pathname },
      (headers) => {
        const merged = new Headers(init?.headers);
        for (const [name, value] of Object.entries(headers)) merged.set(name, value);
        return inner(input, { ...init, headers: merged });
      },
    );
  };
}

/** Server spans by the raw request they serve. */
const requestSpans = new WeakMap<IncomingMessage, Span>();
/** Request loggers: their lines carry trace_id as a binding already (see `traceMixin`). */
const requestLoggers = new WeakSet<object>();

function validTraceId(span: Span | undefined): string | undefined {
  const ctx = span?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

/** The trace id of a request (for problem bodies); undefined when it has none. */
export function requestTraceId(request: FastifyRequest): string | undefined {
  return validTraceId(requestSpans.get(request.raw));
}

/**
 * Fastify's `childLoggerFactory`: starts the request's server span (a child
 * of the caller's traceparent) as Fastify creates the request, so that every
 * line of `request.log`, from "incoming request" to "request completed",
 * carries `trace_id` beside `reqId`. With tracing off the span is the no-op
 * tracer's: the incoming traceparent's trace id, or none.
 */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
  raw,
) => {
  const parent = propagation.extract(ROOT_CONTEXT, raw.headers);
  const span = tracer().startSpan(
    `${raw.method} unmatched`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': raw.method ?? '', 'tollgate.request_id': String(bindings.reqId) },
    },
    parent,
  );
  requestSpans.set(raw, span);
  const traceId = validTraceId(span);
  const child = logger.child(traceId ? { ...bindings, trace_id: traceId } : bindings, options);
  requestLoggers.add(child);
  return child;
};

/**
 * pino's `mixin`: the active span's trace id on lines logged outside a
 * request's own logger (queue jobs, app.log inside a handler). With tracing
 * off there is no active span: nothing is added.
 */
export function traceMixin(_merge: object, _level: number, logger: FastifyBaseLogger): object {
  if (requestLoggers.has(logger)) return {};
  const traceId = currentTraceId();
  return traceId ? { trace_id: traceId } : {};
}

/**
 * The request's server span (started by `requestLoggerFactory`) active
 * while the hooks and the handler run, named by its route, ended with the response. The handler is wrapped as well: the
 * body is parsed in the request stream's callbacks, outside the context
 * entered in onRequest. Registered by `requestHygiene`, before the routes.
 */
export function tracingHooks(app: FastifyInstance) {
  app.addHook('onRequest', (request, _reply, done) => {
    const span = requestSpans.get(request.raw);
    if (!span) return done();
    const route = request.routeOptions.url;
    if (route) {
      span.updateName(`${request.method} ${route}`);
      span.setAttribute('http.route', route);
    }
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = requestSpans.get(request.raw);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    requestSpans.get(request.raw)?.end();
    done();
  });
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: unknown, request, reply) {
      const span = requestSpans.get(request.raw);
      if (!span) return handler.call(this as FastifyInstance, request, reply);
      return context.with(trace.setSpan(context.active(), span), () =>
        handler.call(this as FastifyInstance, request, reply),
      );
    };
  });
}
