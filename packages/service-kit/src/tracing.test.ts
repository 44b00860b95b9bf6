import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHygiene, serverOptions } from './http.js';
import { problemHandler } from './problem.js';
import { currentTraceparent, jobSpan, startTracing, type Tracing } from './tracing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let sink: Server;
let tracing: Tracing;

beforeAll(async () => {
  // Spans go to a receiver that drops them: this file checks ids, not export.
  sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  tracing = await startTracing('kit-test', {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
  });
});
afterAll(async () => {
  await tracing.shutdown();
  await new Promise((resolve) => sink.close(resolve));
});

describe('tracing', () => {
  it('puts the request id and the trace id on every log line of a request, and trace_id in its problem body', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = Fastify(
      serverOptions({
        logLevel: 'info',
        trustProxy: false,
        logStream: { write: (line: string) => lines.push(JSON.parse(line)) },
      }),
    );
    await app.register(problemHandler);
    await app.register(requestHygiene);
    app.get('/fail', async (request) => {
      request.log.info('in the handler');
      throw new Error('boom');
    });
    const response = await app.inject({
      url: '/fail',
      headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, 'x-request-id': 'req-1' },
    });
    expect(response.json()).toMatchObject({ code: 'internal_error', requestId: 'req-1', trace_id: TRACE });
    const requestLines = lines.filter((l) => l.reqId === 'req-1');
    expect(requestLines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['incoming request', 'in the handler', 'unhandled error', 'request completed']),
    );
    for (const line of requestLines) expect(line.trace_id).toBe(TRACE);
    await app.close();
  });

  it('a job continues the trace stored with it, and what it queues carries that trace on', async () => {
    const stored = `00-${TRACE}-00f067aa0ba902b7-01`;
    const queued = await jobSpan('job test', stored, {}, async () => currentTraceparent());
    expect(queued).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(queued).not.toBe(stored);
    const fresh = await jobSpan('job test', 'not a traceparent', {}, async () => currentTraceparent());
    expect(fresh).not.toContain(TRACE);
  });
});
