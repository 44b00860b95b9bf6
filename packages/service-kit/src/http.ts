/**
 * Fastify server options and hooks that every tollgate service uses:
 * request ids from the gateway, log redaction, and the rule that credentials
 * never travel in URLs.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  FastifyServerOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import pino from 'pino';
import { findNonFiniteNumber, findUnsafeString } from './input.js';
import { ProblemError, sendProblem } from './problem.js';
import { problemType } from './problem-catalogue.js';
import { requestLoggerFactory, traceMixin, tracingHooks } from './tracing.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Query parameters that carry secrets; their values are hidden in logs and refused in requests. */
export const CREDENTIAL_QUERY_PARAMS = [
  'password',
  'current_password',
  'new_password',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'jwt',
  'client_secret',
  'api_key',
] as const;

const CREDENTIAL_NAMES: ReadonlySet<string> = new Set(CREDENTIAL_QUERY_PARAMS);

/**
 * Query parameters that carry a one-time secret by design, so a request must
 * be able to send them, but whose values stay out of logs: OAuth's
 * authorization code at auth's provider callback, and the one-time code the
 * callback hands the front end to exchange for tokens.
 */
export const ONE_TIME_SECRET_QUERY_PARAMS = ['code'] as const;

const HIDDEN_IN_LOGS: ReadonlySet<string> = new Set([
  ...CREDENTIAL_QUERY_PARAMS,
  ...ONE_TIME_SECRET_QUERY_PARAMS,
]);

/**
 * Whether a query parameter name is one of the credential names. Compared
 * case-insensitively: `?Password=` or `?ACCESS_TOKEN=` lands in a log line
 * just the same (URLSearchParams has already decoded `%50assword`).
 */
export function isCredentialParam(name: string): boolean {
  return CREDENTIAL_NAMES.has(name.toLowerCase());
}

/** The distinct credential parameter names in a URL's query string, as the client spelled them. */
export function credentialParamsIn(url: string): string[] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  const found = new Set<string>();
  for (const name of new URLSearchParams(url.slice(q + 1)).keys()) {
    if (isCredentialParam(name)) found.add(name);
  }
  return [...found];
}

/** The URL with the values of credential and one-time-secret query parameters replaced (any letter case). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  const redacted = new URLSearchParams();
  for (const [name, value] of params) {
    if (HIDDEN_IN_LOGS.has(name.toLowerCase())) {
      redacted.append(name, '[REDACTED]');
      changed = true;
    } else redacted.append(name, value);
  }
  return changed ? `${url.slice(0, q)}?${redacted.toString()}` : url;
}

/**
 * Errors Fastify raises before any route or hook runs, as problems: a URL
 * whose percent-encoding does not decode (400) and a path parameter longer
 * than the router's limit (414). Without this Fastify answers them in its own
 * JSON shape. They are the client's mistake: logged at info, no stack.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-request-id', request.id);
  request.log.info({ code: error.code }, 'request refused before routing');
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return sendProblem(
        reply,
        new ProblemError(
          400,
          'malformed_url',
          'Malformed URL',
          'the request path is not valid percent-encoded UTF-8',
        ),
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendProblem(
        reply,
        new ProblemError(414, 'uri_too_long', 'URI too long', 'a path parameter exceeds the length limit'),
      );
    default:
      request.log.error({ err: error }, 'framework error');
      return sendProblem(
        reply,
        new ProblemError(500, 'internal_error', 'Internal server error', 'Something went wrong on our side.'),
      );
  }
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (a request
 * line that is not HTTP, headers too large, a header with a control
 * character): answered as problem+json like everything else, instead of
 * Fastify's default `{"error":"Bad Request","message":"Client Error"}`.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, title] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'Request timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'Request headers too large']
        : [400, 'malformed_request', 'Malformed request'];
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail: 'the request could not be parsed as HTTP/1.1',
    code,
    requestId: randomUUID(),
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export interface ServerOptionsInput {
  logLevel: string;
  /** Names the service on every log line ("name": "auth"), so merged logs say whose a line is. */
  service?: string;
  trustProxy: boolean | string | string[];
  bodyLimit?: number;
  /** false turns logging off (quiet tests); default on. */
  logging?: boolean;
  /** Where log lines go (default stdout); the redaction rules apply whatever the destination. */
  logStream?: { write(line: string): unknown };
}

/** Fastify constructor options shared by the services. */
export function serverOptions(input: ServerOptionsInput): FastifyServerOptions {
  return {
    logger: input.logging !== false && {
      level: input.logLevel,
      ...(input.service ? { name: input.service } : {}),
      // The trace id of the active span on lines outside a request's logger (requestLoggerFactory binds it there).
      mixin: traceMixin,
      // Asynchronous stdout: lines written while a write is in flight are
      // coalesced into one syscall under load (flushed on exit by pino).
      stream: input.logStream ?? pino.destination({ dest: 1, sync: false }),
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["stripe-signature"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.current_password',
          '*.new_password',
          '*.access_token',
          '*.refresh_token',
          '*.client_secret',
        ],
        censor: '[REDACTED]',
      },
      serializers: {
        req(request) {
          return {
            method: request.method,
            url: redactUrl(request.url),
            remoteAddress: request.ip,
            userAgent: request.headers['user-agent'],
          };
        },
      },
    },
    trustProxy: input.trustProxy,
    bodyLimit: input.bodyLimit ?? 64 * 1024,
    // The gateway sets X-Request-Id; keep it when it is well-formed so one id
    // follows a request through every service, else make a new one.
    genReqId(request) {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: {
      customOptions: {
        // Unknown fields are an error (400), not silently dropped.
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: false,
      },
    },
    frameworkErrors,
    clientErrorHandler,
    // Starts each request's server span, so its trace id is on every line of request.log (ADR 0025).
    childLoggerFactory: requestLoggerFactory,
    return503OnClosing: true,
  };
}

/**
 * Echoes the request id, refuses credentials in the query string, and refuses
 * strings no route can store (NUL, lone surrogates) in path parameters, query
 * and body before validation, for every route of the service.
 */
export const requestHygiene = fp(
  async (app: FastifyInstance) => {
    // First, so every later hook and the handler run inside the request's span.
    tracingHooks(app);
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
      const found = credentialParamsIn(request.url);
      if (found.length > 0) {
        return sendProblem(
          reply,
          new ProblemError(
            400,
            'credentials_in_query',
            'Credentials in the URL',
            `${found.join(', ')} must not be sent in the query string: URLs end up in logs and browser history. ` +
              'Send passwords in the JSON request body and tokens in the "Authorization: Bearer <token>" header.',
            { parameters: found },
          ),
        );
      }
    });
    app.addHook('preValidation', async (request, reply) => {
      const unsafe =
        findUnsafeString(request.params, 'params') ??
        findUnsafeString(request.query, 'query') ??
        findUnsafeString(request.body, 'body');
      if (!unsafe) return;
      request.log.info({ location: unsafe.location, reason: unsafe.reason }, 'unsafe string refused');
      return sendProblem(
        reply,
        new ProblemError(
          400,
          'invalid_characters',
          'Characters not allowed',
          `${unsafe.location} contains ${unsafe.reason === 'nul_character' ? 'a NUL character' : 'a lone UTF-16 surrogate'}, which no field accepts`,
          { location: unsafe.location, reason: unsafe.reason },
        ),
      );
    });
    app.addHook('preHandler', async (request, reply) => {
      const location =
        findNonFiniteNumber(request.params, 'params') ??
        findNonFiniteNumber(request.query, 'query') ??
        findNonFiniteNumber(request.body, 'body');
      if (!location) return;
      request.log.info({ location }, 'non-finite number refused');
      return sendProblem(
        reply,
        new ProblemError(
          400,
          'number_out_of_range',
          'Number out of range',
          `${location} is not a finite number`,
          {
            location,
          },
        ),
      );
    });
  },
  { name: 'request-hygiene' },
);

/** TRUST_PROXY as Fastify's trustProxy: `true`, `false`, or comma-separated addresses, CIDRs and names. */
export function parseTrustProxy(value: string): boolean | string[] {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * For @fastify/swagger: shared schemas (e.g. `Problem`) appear in the
 * OpenAPI document under their own `$id` instead of generated `def-N` names.
 */
export const openApiRefResolver = {
  buildLocalReference: (json: { $id?: unknown }, _base: unknown, _fragment: unknown, i: number) =>
    String(json.$id ?? `def-${i}`),
};

/** Paths the gateway never routes: the internal API (403 there) and the probes. */
export const PRIVATE_PATH_PREFIXES = ['/internal/', '/health/', '/metrics'] as const;

/**
 * For @fastify/swagger's `transform`: routes under PRIVATE_PATH_PREFIXES are
 * left out of the public OpenAPI document (Swagger UI is served through the
 * gateway, where they are unreachable). Their schemas still validate.
 */
export function hidePrivateRoutes({ schema, url }: { schema?: FastifySchema; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  const hidden = PRIVATE_PATH_PREFIXES.some((prefix) => url.startsWith(prefix));
  // `hide` is the field @fastify/swagger adds to route schemas.
  return { schema: hidden ? ({ ...schema, hide: true } as FastifySchema) : (schema ?? {}), url };
}

/**
 * The parser for @fastify/formbody (`{ parser: formBodyParser }`). `curl -d
 * '{"login":…}'` sends JSON labelled application/x-www-form-urlencoded; parsed
 * as a form it becomes one odd field and the answer was "body must have
 * required property 'login'". A form body that is a JSON object or array is
 * answered 415, naming the header to send.
 */
export function formBodyParser(body: string): Record<string, unknown> {
  const start = body.trimStart()[0];
  if (start === '{' || start === '[') {
    throw new ProblemError(
      415,
      'unsupported_media_type',
      'Unsupported media type',
      'the body is JSON but Content-Type says application/x-www-form-urlencoded (what curl -d sends): send the header "Content-Type: application/json"',
    );
  }
  return { ...parseQueryString(body) };
}
