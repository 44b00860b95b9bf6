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
  });
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
