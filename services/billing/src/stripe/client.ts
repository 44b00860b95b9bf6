import { clientSpan } from '@tollgate/service-kit';
import Stripe from 'stripe';
import type { Config } from '../config.js';

/**
 * The official SDK, pointed at whatever STRIPE_API_URL says (api.stripe.com
 * when unset). Nothing else in billing knows which Stripe it talks to.
 */
export function createStripeClient(config: Config['stripe']): Stripe {
  return new Stripe(config.secretKey, {
    ...(config.host ? { host: config.host, port: config.port, protocol: config.protocol } : {}),
    maxNetworkRetries: 2,
    timeout: 20_000,
    appInfo: { name: 'tollgate-billing' },
    httpClient: tracedHttpClient(Stripe.createNodeHttpClient()),
  });
}

type HttpClient = ReturnType<typeof Stripe.createNodeHttpClient>;

/** Object ids in a Stripe path (`/v1/customers/cus_123`), kept out of span names. */
const STRIPE_ID = /\/[a-z]+_[A-Za-z0-9_]+/g;

/**
 * The SDK's HTTP client with each request (each retry too) in a client span
 * that sends traceparent (ADR 0025): bundled code is not auto-instrumented,
 * and this is the one place every Stripe call passes through.
 */
export function tracedHttpClient(inner: HttpClient): HttpClient {
  const traced = Object.create(inner) as HttpClient;
  traced.makeRequest = (host, port, path, method, headers, requestData, protocol, timeout) => {
    const route = path.split('?')[0]?.replace(STRIPE_ID, '/{id}') ?? path;
    return clientSpan(
      `stripe ${method} ${route}`,
      { 'http.request.method': method, 'server.address': host, 'url.path': route, 'rpc.system': 'stripe' },
      (trace) =>
        inner.makeRequest(host, port, path, method, { ...headers, ...trace }, requestData, protocol, timeout),
    );
  };
  return traced;
}
export type { Stripe };

/** Stripe's 404 for an object that does not exist (or no longer does). */
export function isResourceMissing(error: unknown): boolean {
  const e = error as { code?: string; statusCode?: number };
  return e?.code === 'resource_missing' || e?.statusCode === 404;
}

/** The id of an expandable field, whether it came as an id or as the object. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

export const fromUnix = (seconds: number | null | undefined): Date | null =>
  seconds == null ? null : new Date(seconds * 1000);
