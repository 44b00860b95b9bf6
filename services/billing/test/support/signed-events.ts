/** Signed webhook deliveries made with the official SDK, as Stripe would send them. */
import Stripe from 'stripe';
import type { Stack } from '../stack.js';

const signer = new Stripe('sk_test_unused');
let counter = 0;

export function eventFixture(type: string, object: Record<string, unknown>): Record<string, unknown> {
  counter++;
  return {
    id: `evt_test_${Date.now()}_${process.pid}_${counter}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export function signBody(stack: Stack, body: string, timestamp?: number): string {
  return signer.webhooks.generateTestHeaderString({
    payload: body,
    secret: stack.config.stripe.webhookSecret,
    ...(timestamp ? { timestamp } : {}),
  });
}

/** POSTs a body to billing's webhook route, signed (unless `signature` is given). */
export function deliver(stack: Stack, body: string, signature = signBody(stack, body)) {
  return stack.app.inject({
    method: 'POST',
    url: '/api/v1/webhook',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
    payload: body,
  });
}
