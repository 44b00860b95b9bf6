/**
 * Fastify server options and hooks that every tollgate service uses:
 * request ids from the gateway, log redaction, and the rule that credentials
 * never travel in URLs.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import pino from 'pino';
import { ProblemError, sendProblem } from './problem.js';

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

/** The URL with the values of credential-carrying query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of CREDENTIAL_QUERY_PARAMS) {
    if (params.has(name)) {
      params.set(name, '[REDACTED]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

export interface ServerOptionsInput {
  logLevel: string;
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
    return503OnClosing: true,
  };
}

/** Echoes the request id and refuses credentials in the query string. */
export const requestHygiene = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
      const q = request.url.indexOf('?');
      if (q < 0) return;
      const params = new URLSearchParams(request.url.slice(q + 1));
      const found = CREDENTIAL_QUERY_PARAMS.filter((name) => params.has(name));
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
