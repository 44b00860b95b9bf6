/**
 * One checkout traced end to end (issue 15 item 8, ADR 0025): spans are
 * exported by the real OTLP/HTTP exporter to an in-process receiver, and the
 * test follows their parent chains and links from the caller's traceparent
 * through billing's checkout request, the Stripe SDK call, the webhook, the
 * inbox job, the role-sync job and its call to auth, to auth's handling.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTracing, type Tracing } from '@tollgate/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  eventually,
  newUser,
  PREMIUM_MONTHLY,
  payOnHostedPage,
  rolesInAuth,
  type Stack,
  startStack,
} from './stack.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}

const spans = new Map<string, OtlpSpan>();
let receiver: Server;
let tracing: Tracing;
let stack: Stack;

/** A tiny OTLP/HTTP receiver (http/json, what the exporter sends by default). */
async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const resource of body.resourceSpans ?? [])
        for (const scope of resource.scopeSpans ?? [])
          for (const span of scope.spans ?? []) spans.set(span.spanId, span);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The span and its ancestors, nearest first, as far as the exported spans reach. */
function chain(span: OtlpSpan): OtlpSpan[] {
  const out = [span];
  let next = span.parentSpanId ? spans.get(span.parentSpanId) : undefined;
  while (next) {
    out.push(next);
    next = next.parentSpanId ? spans.get(next.parentSpanId) : undefined;
  }
  return out;
}

const named = (prefix: string) => [...spans.values()].filter((s) => s.name.startsWith(prefix));

beforeAll(async () => {
  const endpoint = await startReceiver();
  tracing = await startTracing('billing-test', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  // No Stripe catch-up: it may accept the checkout's events before their webhooks arrive,
  // and the job would then link to the catch-up's span instead of the delivery's.
  stack = await startStack({ STRIPE_CATCHUP_SECONDS: '0' });
});
afterAll(async () => {
  await stack?.close();
  await tracing?.shutdown();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('tracing', () => {
  it('is on: the OTLP endpoint is set', () => {
    expect(tracing.enabled).toBe(true);
  });

  it('one checkout is one trace: checkout request, Stripe call, webhook job (linked to the delivery), role sync, auth', async () => {
    const user = await newUser(stack);
    const traceId = hex(16);
    const callerSpanId = hex(8);
    // As the gateway forwards it: the caller's traceparent.
    const started = await fetch(`${stack.billingUrl}/api/v1/checkout`, {
      method: 'POST',
      headers: {
        ...bearer(user),
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({ price_id: PREMIUM_MONTHLY }),
    });
    expect(started.status).toBe(200);
    const { checkout_session_url } = (await started.json()) as { checkout_session_url: string };
    expect((await payOnHostedPage(checkout_session_url)).status).toBe(303);
    await eventually(async () => ((await rolesInAuth(stack, user)).includes('premium') ? true : undefined));

    // The auth call that granted the role, exported: wait for the batch to arrive.
    const authGrant = await eventually(async () => {
      await tracing.flush();
      return [...spans.values()].find(
        (s) =>
          s.kind === 2 &&
          s.traceId === traceId &&
          s.name.includes('/internal/') &&
          chain(s).some((a) => a.name === 'job role-sync'),
      );
    });

    const checkout = named('POST /api/v1/checkout').find((s) => s.traceId === traceId);
    expect(checkout?.parentSpanId).toBe(callerSpanId);
    const stripeCall = named('stripe POST /v1/checkout/sessions').find((s) => s.traceId === traceId);
    expect(stripeCall && chain(stripeCall)).toContain(checkout);

    // auth's server span <- billing's client span <- role-sync job <- webhook job, all in the checkout's trace.
    const authChain = chain(authGrant);
    const names = authChain.map((s) => s.name);
    expect(names[0]).toMatch(/^(POST|PUT|DELETE) \/internal\/.*:/);
    expect(names[1]).toMatch(/^(POST|PUT|DELETE) \/internal\//);
    expect(names).toContain('job role-sync');
    const webhookJob = authChain.find((s) => s.name === 'job webhook-event');
    expect(webhookJob).toBeDefined();
    expect(authChain.every((s) => s.traceId === traceId)).toBe(true);

    // Stripe sends no traceparent: the webhook delivery is its own trace, linked from the job.
    const link = webhookJob?.links?.[0];
    expect(link).toBeDefined();
    const delivery = await eventually(async () => {
      await tracing.flush();
      return link && spans.get(link.spanId);
    });
    expect(delivery.name).toBe('POST /api/v1/webhook');
    expect(delivery.kind).toBe(2);
    expect(delivery.traceId).toBe(link?.traceId);
  });

  it('a problem+json body carries the trace id of its request', async () => {
    const traceId = hex(16);
    const response = await fetch(`${stack.billingUrl}/api/v1/no-such-route`, {
      headers: { traceparent: `00-${traceId}-${hex(8)}-01`, 'x-request-id': 'req-trace-test' },
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { code: string; trace_id?: string; requestId?: string };
    expect(body).toMatchObject({ code: 'route_not_found', trace_id: traceId, requestId: 'req-trace-test' });
  });
});
