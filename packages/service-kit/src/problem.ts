/**
 * RFC 9457 problem details. Domain code throws `ProblemError`s (or subclasses
 * made with `defineProblem`); one error handler turns every error into a
 * problem+json body with a stable `code`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { problemType } from './problem-catalogue.js';
import { requestTraceId } from './tracing.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId?: string;
  /** The W3C trace id of the request, when it has one (tracing on, or an incoming traceparent). */
  trace_id?: string;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail?: string,
    /** Extra members of the problem body (e.g. `errors`, `retryAfter`). */
    readonly extensions: Record<string, unknown> = {},
    /** Response headers to set (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

/** A factory for one entry of a service's error catalogue: `Problems.x(detail?, extensions?, headers?)`. */
export function defineProblem(status: number, code: string, title: string) {
  return (detail?: string, extensions?: Record<string, unknown>, headers?: Record<string, string>) =>
    new ProblemError(status, code, title, detail, extensions, headers);
}

export function problemBody(error: ProblemError, requestId: string, traceId?: string): ProblemBody {
  return {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
    ...(traceId ? { trace_id: traceId } : {}),
    ...error.extensions,
  };
}

/** Fastify's own errors, by code, as problems with our stable codes. */
function fromFastifyError(error: FastifyError): ProblemError | undefined {
  if (error.validation) {
    return new ProblemError(400, 'validation_failed', 'Request validation failed', error.message, {
      errors: error.validation.map((v) => ({
        in: error.validationContext,
        path: v.instancePath || undefined,
        message: v.message,
        ...(v.keyword === 'additionalProperties'
          ? { unknownField: (v.params as { additionalProperty?: string }).additionalProperty }
          : {}),
      })),
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError(413, 'body_too_large', 'Request body too large', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', error.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ProblemError(400, 'malformed_body', 'Malformed request body', error.message);
    default:
      break;
  }
  if (error.statusCode === 429) {
    return new ProblemError(429, 'rate_limited', 'Too many requests', error.message);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new ProblemError(error.statusCode, 'bad_request', 'Bad request', error.message);
  }
  return undefined;
}

/**
 * A URIError comes from decodeURIComponent (and friends) on something the
 * client sent, e.g. a Basic credential with a stray "%": the client's mistake,
 * whichever route decoded it.
 */
function fromDecodingError(error: unknown): ProblemError | undefined {
  if (error instanceof URIError) {
    return new ProblemError(
      400,
      'malformed_encoding',
      'Malformed encoding',
      'a value is not valid percent-encoding',
    );
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, error: ProblemError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply
    .code(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problemBody(error, String(reply.request.id), requestTraceId(reply.request)));
}

export interface ProblemHandlerOptions {
  /** Maps errors of other libraries (e.g. token errors) to problems; return undefined to pass. */
  mapError?: (error: unknown) => ProblemError | undefined;
}

/** Installs the error and not-found handlers that answer in problem+json. */
export const problemHandler = fp<ProblemHandlerOptions>(
  async (app: FastifyInstance, options) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const problem =
        error instanceof ProblemError
          ? error
          : (options.mapError?.(error) ?? fromFastifyError(error) ?? fromDecodingError(error));
      if (problem) {
        if (problem.status >= 500) request.log.error({ err: error }, problem.message);
        return sendProblem(reply, problem);
      }
      // Unknown errors: the full error goes to the log, a generic body to the client.
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(
        reply,
        new ProblemError(500, 'internal_error', 'Internal server error', 'Something went wrong on our side.'),
      );
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        reply,
        new ProblemError(
          404,
          'route_not_found',
          'Not found',
          `no route ${request.method} ${request.url.split('?')[0]}`,
        ),
      ),
    );
  },
  { name: 'problem-handler' },
);

/** The JSON schema of a problem body, for OpenAPI responses. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    trace_id: { type: 'string', description: 'W3C trace id of the request' },
  },
  required: ['type', 'title', 'status', 'code'],
  additionalProperties: true,
} as const;

/**
 * Documents the problems any route can answer with (400 for credentials in
 * the query string, 500) on every route that has a schema, so OpenAPI shows a
 * schema for every status. Register before the routes.
 */
export const commonProblemResponses = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      if (!route.schema || (route.schema as { hide?: boolean }).hide) return;
      const response = (route.schema.response ?? {}) as Record<string, unknown>;
      for (const status of ['400', '500']) {
        if (!(status in response) && !(Number(status) in response)) response[status] = { $ref: 'Problem' };
      }
      route.schema.response = response;
    });
  },
  { name: 'common-problem-responses' },
);
