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

const cfg = loadBenchConfig();

let helloRps = 0;

async function cannon(title: string, opts: Record<string, unknown>) {
  const result = await autocannon({ duration: cfg.durationSeconds, connections: cfg.connections, ...opts });
  const ok = result['2xx'];
  const line = {
    title,
    requests_per_second_avg: Math.round(result.requests.average),
    latency_ms_p50: result.latency.p50,
    latency_ms_p99: result.latency.p99,
    ok_responses: ok,
    non_2xx: result.non2xx,
    errors: result.errors,
    ...(helloRps ? { ratio_to_hello: Number((result.requests.average / helloRps).toFixed(3)) } : {}),
  };
  console.log(JSON.stringify(line));
  return line;
}

async function helloBaseline() {
  const app = Fastify();
  app.get('/hello', async () => ({ hello: 'world' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  helloRps = (await cannon('baseline: GET /hello (plain Fastify, same process)', { url: `${url}/hello` }))
    .requests_per_second_avg;
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
  console.log(JSON.stringify({ customers_in_store: emu.emulator.store.customers.items.size }));
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
  console.log(
    JSON.stringify({
      title: `webhook deliveries (signed POST, endpoint concurrency ${concurrency})`,
      events: cfg.webhookEvents,
      delivered: received,
      seconds: Number(seconds.toFixed(2)),
      deliveries_per_second: Math.round(received / seconds),
      baseline_plain_posts_per_second: Math.round(baselinePerSecond),
      ratio_to_baseline: Number((received / seconds / baselinePerSecond).toFixed(3)),
    }),
  );
  await emu.close();
  await new Promise<void>((r) => server.close(() => r()));
}

console.log(JSON.stringify({ node: process.version, ...cfg }));
await helloBaseline();
await httpBench();
await webhookBench(1);
await webhookBench(16);
