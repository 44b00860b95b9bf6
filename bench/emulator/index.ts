/**
 * Stripe emulator throughput: customer create and list (requests/s, through
 * autocannon) against a hello-world Fastify route in the same process, and
 * webhook deliveries/s (events fanned out to a local endpoint) against plain
 * POSTs of the same size to that endpoint at the same concurrency.
 * Run: npm run bench -w @tollgate/stripe-emulator
 * Env: BENCH_DURATION_SECONDS (5), BENCH_CONNECTIONS (10), BENCH_WEBHOOK_EVENTS (2000).
 * The emulator runs in this process, so autocannon and it share a core.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { loadBenchConfig } from '../../services/stripe-emulator/src/config.ts';
import { startEmulator } from '../../services/stripe-emulator/src/index.ts';
import { log, startReport } from '../lib/bench.js';

const cfg = loadBenchConfig();
const report = startReport('emulator');

let helloRps = 0;

async function cannon(title: string, opts: autocannon.Options) {
  log(`${title}, ${cfg.durationSeconds} s`);
  const result = await autocannon({ duration: cfg.durationSeconds, connections: cfg.connections, ...opts });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${title}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const rps = result['2xx'] / cfg.durationSeconds;
  if (helloRps) {
    report.add({
      measure: title,
      figure: rps,
      unit: '/s',
      baseline: { label: 'plain Fastify hello', value: helloRps, unit: '/s' },
      note: `no goal in the issue; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
    });
  }
  return rps;
}

async function helloBaseline() {
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  helloRps = await cannon('baseline: GET /hello (plain Fastify, same process)', { url: `${url}/hello` });
  await app.close();
}

async function httpBench() {
  const emu = await startEmulator({ logLevel: 'error' });
  const headers = {
    authorization: `Bearer ${emu.apiKey}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
  await cannon('POST /v1/customers', {
    url: `${emu.url}/v1/customers`,
    method: 'POST',
    headers,
    body: 'email=bench%40example.com&name=Bench&metadata[userId]=42',
  });
  await cannon('GET /v1/customers?limit=10', { url: `${emu.url}/v1/customers?limit=10`, headers });
  await cannon('GET /v1/customers?email=...&limit=10 (scan)', {
    url: `${emu.url}/v1/customers?limit=10&email=nobody%40example.com`,
    headers,
  });
  log(`${emu.emulator.store.customers.items.size} customers in the store`);
  await emu.close();
}

async function webhookBench(concurrency: number) {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  // Baseline: the same number of POSTs of an event-sized body, at the same concurrency, without the emulator.
  const body = JSON.stringify({
    id: 'evt_baseline',
    object: 'event',
    data: { object: { id: 'cus_bench' } },
  }).padEnd(1500);
  let next = 0;
  const baselineStarted = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < cfg.webhookEvents) {
        const response = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
        await response.arrayBuffer();
      }
    }),
  );
  const baselinePerSecond = cfg.webhookEvents / ((performance.now() - baselineStarted) / 1000);
  received = 0;
  const emu = await startEmulator({ logLevel: 'error', webhookUrl: url, webhookConcurrency: concurrency });
  const em = emu.emulator;
  // Events are made by the domain directly so that only delivery is measured.
  const customer = { id: 'cus_bench', object: 'customer' };
  const started = performance.now();
  for (let i = 0; i < cfg.webhookEvents; i++) em.emit('customer.updated', customer);
  await emu.waitForWebhooks();
  const seconds = (performance.now() - started) / 1000;
  report.add({
    measure: `webhook deliveries (signed POST, endpoint concurrency ${concurrency})`,
    figure: received / seconds,
    unit: '/s',
    baseline: { label: 'plain POSTs', value: baselinePerSecond, unit: '/s' },
    note: `no goal in the issue; ${received}/${cfg.webhookEvents} delivered in ${seconds.toFixed(2)} s`,
  });
  await emu.close();
  await new Promise<void>((r) => server.close(() => r()));
}

try {
  await helloBaseline();
  await httpBench();
  await webhookBench(1);
  await webhookBench(16);
  report.finish();
} catch (error) {
  report.finish(error);
  process.exitCode = 1;
}
