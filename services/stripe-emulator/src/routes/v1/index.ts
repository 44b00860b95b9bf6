/**
 * The Stripe API surface (`/v1`): API key check, Stripe's response headers,
 * Idempotency-Key replay, and `expand[]`, around thin handlers that call the
 * domain. Parameters are validated by the domain (not JSON schemas) because
 * Stripe's own error messages and `param` values are part of the contract.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { negotiateVersion } from '../../domain/core/api-versions.js';
import type { Emulator } from '../../domain/core/emulator.js';
import { authenticationError, idempotencyError } from '../../domain/core/errors.js';
import { applyExpand, expandPaths } from '../../domain/core/expand.js';
import { Params } from '../../domain/core/params.js';
import { includes, resolver } from '../../domain/resolve.js';
import { OPERATIONS } from '../../domain/routes.js';

const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const IDEMPOTENCY_MAX_KEYS = 50_000;

function keyMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The secret key from `Authorization: Bearer sk_...` or Basic auth with the key as user name. */
export function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  return undefined;
}

export function checkApiKey(request: FastifyRequest, apiKey: string): void {
  const key = presentedKey(request.headers.authorization);
  if (!key) {
    throw authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  }
  if (!keyMatches(key, apiKey)) {
    throw authenticationError(
      `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`,
    );
  }
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
    idempotencyReplay?: boolean;
  }
}

export async function v1Routes(app: FastifyInstance, opts: { em: Emulator }): Promise<void> {
  const { em } = opts;
  const resolve = resolver(em);
  const include = includes(em);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
    checkApiKey(request, em.config.apiKey);
    const version = negotiateVersion(request.headers['stripe-version']);
    if (typeof version !== 'string') throw version;
    reply.header('stripe-version', version);
  });

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || typeof key !== 'string' || key === '') return;
    request.idempotencyKey = key;
    reply.header('idempotency-key', key);
    const saved = em.store.idempotency.get(key);
    if (!saved) return;
    if (
      saved.method !== request.method ||
      saved.path !== request.url.split('?')[0] ||
      saved.paramsKey !== stable(request.body)
    ) {
      throw idempotencyError(key);
    }
    request.idempotencyReplay = true;
    reply.header('idempotent-replayed', 'true');
    return reply.code(saved.statusCode).type('application/json').send(saved.body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (!key || request.idempotencyReplay || typeof payload !== 'string') return payload;
    // Results are saved once the endpoint has started executing: successes and card declines.
    if (reply.statusCode < 300 || reply.statusCode === 402) {
      if (em.store.idempotency.size >= IDEMPOTENCY_MAX_KEYS) pruneIdempotency(em);
      em.store.idempotency.set(key, {
        method: request.method,
        path: request.url.split('?')[0] ?? '',
        paramsKey: stable(request.body),
        statusCode: reply.statusCode,
        body: payload,
        createdAt: Date.now(),
      });
      em.changed();
    }
    return payload;
  });

  for (const { method, url, handler } of OPERATIONS) {
    app.route({
      method,
      url,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const raw = method === 'POST' ? request.body : request.query;
        const params = new Params(raw ?? {});
        const path = (request.params ?? {}) as Record<string, string>;
        const result = handler({
          em,
          params,
          id: path.id ?? '',
          path,
          req: { id: request.id, idempotencyKey: request.idempotencyKey ?? null },
        });
        const expanded = applyExpand(result, expandPaths(params), resolve, include);
        return reply.code(200).send(expanded);
      },
    });
  }
}

function pruneIdempotency(em: Emulator): void {
  const cutoff = Date.now() - IDEMPOTENCY_TTL_MS;
  for (const [key, record] of em.store.idempotency) {
    if (record.createdAt < cutoff || em.store.idempotency.size > IDEMPOTENCY_MAX_KEYS / 2)
      em.store.idempotency.delete(key);
  }
}
