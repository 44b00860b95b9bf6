/**
 * The dev gateway (`npm start`, :8080): routes exactly as the nginx
 * template does (src/routes.ts), with @fastify/http-proxy doing the
 * proxying. Sets X-Request-Id (kept when the client sent a well-formed one)
 * and X-Forwarded-*, echoes the id back, refuses /internal/ and bodies over
 * each route's limit.
 */
import httpProxy from '@fastify/http-proxy';
import { serverOptions } from '@tollgate/service-kit';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { FORBIDDEN_PREFIX, ROUTES, type Upstream } from './routes.js';

export interface GatewayOptions {
  upstreams: Record<Upstream, string>;
  logging?: boolean;
  logLevel?: string;
}

function problem(reply: FastifyReply, status: number, code: string, title: string, detail: string) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `https://tollgate.dev/problems/${code.replaceAll('_', '-')}`,
      title,
      status,
      code,
      detail,
      requestId: reply.request.id,
    });
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'SAMEORIGIN',
};

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...serverOptions({ logLevel: options.logLevel ?? 'info', trustProxy: false, logging: options.logging }),
    // Bodies are streamed through, not parsed; limits are enforced per route below.
    bodyLimit: Math.max(...ROUTES.map((r) => r.bodyLimit)),
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const path = request.url.split('?')[0]!;
    if (path.startsWith(FORBIDDEN_PREFIX)) {
      return problem(
        reply,
        403,
        'forbidden',
        'Forbidden',
        'the internal API is not reachable through the gateway',
      );
    }
    const route = ROUTES.find((r) => path.startsWith(r.prefix));
    const length = Number(request.headers['content-length'] ?? 0);
    if (route && length > route.bodyLimit) {
      return problem(
        reply,
        413,
        'body_too_large',
        'Request body too large',
        `the limit here is ${route.bodyLimit} bytes`,
      );
    }
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
          'x-forwarded-for': request.headers['x-forwarded-for']
            ? `${request.headers['x-forwarded-for']}, ${request.ip}`
            : request.ip,
          'x-forwarded-proto': 'http',
          'x-forwarded-host': request.headers.host ?? '',
        }),
      },
    });
  }

  app.setNotFoundHandler((request, reply) =>
    problem(
      reply,
      404,
      'route_not_found',
      'Not found',
      `no route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );
  return app;
}
