/**
 * `npm run bench:tracing`: what tracing costs a request (ADR 0025). One
 * Fastify server with the services' own options and hooks (serverOptions,
 * requestHygiene, problemHandler) and a route that makes one outgoing call in
 * a client span, as billing's routes do, measured in three processes:
 *
 *   off        startTracing without OTEL_EXPORTER_OTLP_ENDPOINT (the default)
 *   on         exporting by OTLP/HTTP to a local receiver that accepts and drops
 *   on+parent  as "on", every request carrying a traceparent (through the gateway)
 *
 * Rounds alternate the modes so that a shared machine's drift hits each alike;
 * the figure is the median of each mode's rounds, in requests per second.
 *
 *   npm run bench:tracing                     3 rounds of 5 s per mode
 *   BENCH_ROUNDS=5 BENCH_SECONDS=10 npm run bench:tracing
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  clientSpan,
  problemHandler,
  requestHygiene,
  serverOptions,
  startTracing,
} from '@tollgate/service-kit';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { describeMachine, machine, median } from './lib/bench.js';

type Mode = 'off' | 'on' | 'on+parent';
const MODES: Mode[] = ['off', 'on', 'on+parent'];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function sink(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A child process: one mode, one round; prints its requests per second. */
async function child(mode: Mode) {
  const tracing = await startTracing(
    'bench',
    mode === 'off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: await sink() },
  );
  const app = Fastify(serverOptions({ logLevel: 'warn', trustProxy: false, logging: false }));
  await app.register(problemHandler);
  await app.register(requestHygiene);
  app.get('/work/:id', async (request) => {
    // Stands in for a Stripe or auth call: a client span around an awaited promise.
    const value = await clientSpan('call', {}, async () => (request.params as { id: string }).id);
    return { id: value };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/work/42`;
  const headers: Record<string, string> =
    mode === 'on+parent' ? { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } : {};
  await autocannon({ url, connections: 20, duration: 1, headers }); // warm-up
  const result = await autocannon({ url, connections: 20, duration: SECONDS, headers });
  await app.close();
  await tracing.shutdown();
  process.send?.({ rps: result.requests.average, errors: result.errors + result.non2xx });
}

async function round(mode: Mode): Promise<{ rps: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const proc = fork(import.meta.filename, [mode], { execArgv: process.execArgv });
    proc.once('message', (m) => resolve(m as { rps: number; errors: number }));
    proc.once('error', reject);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`${mode}: exit ${code}`)));
  });
}

const mode = process.argv[2] as Mode | undefined;
if (mode) await child(mode);
else {
  console.log(describeMachine(machine()));
  const rps: Record<Mode, number[]> = { off: [], on: [], 'on+parent': [] };
  for (let i = 0; i < ROUNDS; i++)
    for (const m of MODES) {
      const r = await round(m);
      if (r.errors > 0) throw new Error(`${m}: ${r.errors} errors`);
      rps[m].push(r.rps);
    }
  const off = median(rps.off);
  console.log(`| mode | requests/s (median of ${ROUNDS} x ${SECONDS} s) | vs off |`);
  console.log('|---|---|---|');
  for (const m of MODES) {
    const figure = median(rps[m]);
    console.log(`| ${m} | ${figure.toFixed(0)} | ${((figure / off) * 100).toFixed(0)}% |`);
  }
}
