/**
 * The dev gateway (`npm start`, :8080): routes exactly as the nginx
 * template does (src/routes.ts), with @fastify/http-proxy doing the
 * proxying, and answers as nginx does where it answers itself (the same
 * problem+json bodies for 403, 404 and 413). Sets X-Request-Id (kept when the
 * client sent a well-formed one, else 32 hex digits like nginx's
 * $request_id) and X-Forwarded-* (the client address it saw replaces any
 * X-Forwarded-For the client sent, as at nginx, the edge), echoes the id back,
 * refuses /internal however the path is spelled (routing decisions are made
 * on the normalized path, as nginx matches locations) and bodies over each
 * route's limit. Malformed URLs and proxying failures get problem+json too,
 * never the proxy library's error names. e2e/test/gateway.test.ts checks both
 * gateways.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import httpProxy from '@fastify/http-proxy';
import { problemType, serverOptions } from '@tollgate/service-kit';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { isForbidden, normalizePath, ROUTES, routeFor, type Upstream } from './routes.js';

export interface GatewayOptions {
  upstreams: Record<Upstream, string>;
  logging?: boolean;
  logLevel?: string;
  logStream?: { write(line: string): unknown };
}

/** The same rule as nginx's map and @tollgate/service-kit. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function problem(reply: FastifyReply, status: number, code: string, title: string, detail: string) {
  // Sent as bytes so Fastify leaves the media type exactly nginx's (no "; charset=").
  return reply
    .code(status)
    .header('content-type', 'application/problem+json')
    .send(
      Buffer.from(
        JSON.stringify({
          type: problemType(code),
          title,
          status,
          detail,
          code,
          requestId: reply.request.id,
        }),
      ),
    );
}

/** As nginx sets them (minus its CSP, which is about the browser pages nginx fronts in compose). */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions({
      service: 'gateway',
      logLevel: options.logLevel ?? 'info',
      trustProxy: false,
      logging: options.logging,
      logStream: options.logStream,
    }),
    genReqId(request) {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming)
        ? incoming
        : randomBytes(16).toString('hex');
    },
    // A path that does not decode or a too-long segment: answered by the gateway
    // in its own bytes, like every answer it makes itself.
    frameworkErrors(error, request, reply) {
      request.log.info({ code: error.code }, 'request refused before routing');
      reply.header('x-request-id', request.id);
      return error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? problem(reply, 414, 'uri_too_long', 'URI too long', 'a path segment exceeds the length limit')
        : problem(
            reply,
            400,
            'malformed_url',
            'Malformed URL',
            'the request path is not valid percent-encoded UTF-8',
          );
    },
    // nginx's merge_slashes: //v1/auth/me is /v1/auth/me.
    routerOptions: { ignoreDuplicateSlashes: true },
    // Bodies are streamed through, not parsed; limits are enforced per route below.
    bodyLimit: Math.max(...ROUTES.map((r) => r.bodyLimit)),
  });

  const bodyLimits = new WeakMap<FastifyRequest, number>();
  const tooLarge = (reply: FastifyReply) =>
    problem(
      reply,
      413,
      'body_too_large',
      'Request body too large',
      'the request body exceeds the limit for this path',
    );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const path = normalizePath(request.url.split('?')[0]!);
    if (path === null) {
      return problem(reply, 400, 'bad_request', 'Bad request', 'the request path is malformed');
    }
    if (isForbidden(path)) {
      return problem(
        reply,
        403,
        'internal_api_forbidden',
        'Forbidden',
        'the internal API is not reachable through the gateway',
      );
    }
    const route = routeFor(path);
    if (!route) return notFound(reply);
    bodyLimits.set(request, route.bodyLimit);
    if (Number(request.headers['content-length'] ?? 0) > route.bodyLimit) return tooLarge(reply);
  });

  // A body without Content-Length (chunked) is counted as it arrives and
  // buffered up to the route's limit before it is proxied, as nginx does
  // (proxy_request_buffering on).
  app.addHook('preParsing', async (request, reply, payload) => {
    const limit = bodyLimits.get(request);
    if (limit === undefined || request.headers['content-length'] !== undefined) return payload;
    if (request.headers['transfer-encoding'] === undefined) return payload;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      size += (chunk as Buffer).length;
      if (size > limit) return tooLarge(reply);
      chunks.push(chunk as Buffer);
    }
    return Readable.from([Buffer.concat(chunks)]);
  });

  // Whatever fails while proxying (a path the HTTP client refuses to send, an
  // upstream that resets) is answered as nginx would, never as the proxy
  // library's own error body (FST_REPLY_FROM_* names and messages).
  // Set before the proxies are registered: their scopes inherit it.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.info({ code: error.code }, 'request refused by the gateway');
      return problem(reply, 400, 'bad_request', 'Bad request', 'the request cannot be passed on as sent');
    }
    request.log.warn({ code: error.code, message: error.message }, 'upstream failed');
    return problem(
      reply,
      502,
      'upstream_unavailable',
      'Bad gateway',
      'the service behind this path did not answer',
    );
  });

  for (const route of ROUTES) {
    await app.register(httpProxy, {
      upstream: options.upstreams[route.upstream],
      prefix: route.prefix.replace(/\/$/, ''),
      rewritePrefix: route.prefix.replace(/\/$/, ''),
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => ({
          ...headers,
          'x-request-id': String(request.id),
          'x-forwarded-for': request.ip,
          'x-real-ip': request.ip,
          'x-forwarded-proto': 'http',
          'x-forwarded-host': request.headers.host ?? '',
        }),
        // The gateway's own X-Request-Id (same value) is the one kept, once.
        rewriteHeaders: (headers) => {
          const { 'x-request-id': _id, 'x-powered-by': _poweredBy, ...rest } = headers;
          return rest;
        },
      },
    });
  }

  const notFound = (reply: FastifyReply) =>
    problem(reply, 404, 'route_not_found', 'Not found', 'no route for this path at the gateway');
  app.setNotFoundHandler((_request, reply) => notFound(reply));
  return app;
}
