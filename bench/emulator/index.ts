/**
 * Stripe emulator throughput: customer create and list (requests/s, through
 * autocannon) and webhook deliveries/s (events fanned out to a local endpoint).
 * Run: npm run bench -w @tollgate/stripe-emulator
 * Env: BENCH_DURATION_SECONDS (5), BENCH_CONNECTIONS (10), BENCH_WEBHOOK_EVENTS (2000).
 * The emulator runs in this process, so autocannon and it share a core.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { loadBenchConfig } from '../../services/stripe-emulator/src/config.ts';
import { startEmulator } from '../../services/stripe-emulator/src/index.ts';

const cfg = loadBenchConfig();

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
  };
  console.log(JSON.stringify(line));
  return line;
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
    }),
  );
  await emu.close();
  await new Promise<void>((r) => server.close(() => r()));
}

console.log(JSON.stringify({ node: process.version, ...cfg }));
await httpBench();
await webhookBench(1);
await webhookBench(16);
