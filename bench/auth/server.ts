/**
 * The auth service as the benchmark runs it: the real app (real Postgres and
 * Redis) plus, on the same server, a hello-world route as the baseline and
 * /bench/stats: what the process did since the last call (event-loop delay,
 * GC pauses, CPU), so each round can say why it was slow.
 * Prints its URL on stderr once listening.
 */
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { buildApp } from '../../services/auth/src/app.js';
import { loadConfig } from '../../services/auth/src/config.js';

const config = loadConfig({
  ...process.env,
  NODE_ENV: 'test',
  // The benchmark registers and logs in thousands of times from one address.
  AUTH_RATE_LIMIT_PER_MINUTE: '100000000',
  ACCOUNT_RATE_LIMIT_PER_HOUR: '100000000',
  LOCKOUT_THRESHOLD: '100000000',
});
// Logging as in production (info, one line per request and response), to a
// sink the parent discards: the baseline route pays for it too.
const app = await buildApp(config);
app.get('/bench/hello', async () => ({ hello: 'world' }));

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let gc = { count: 0, ms: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.ms += entry.duration;
    if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
      gc.majorMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });
let since = { at: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
app.get('/bench/stats', async () => {
  const now = { at: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
  const cpu = process.cpuUsage(since.cpu);
  const stats = {
    seconds: (now.at - since.at) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    eventLoopUtilization: performance.eventLoopUtilization(now.elu, since.elu).utilization,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: loopDelay.max / 1e6,
    gc: { ...gc },
    rssMiB: process.memoryUsage.rss() / 2 ** 20,
  };
  since = now;
  gc = { count: 0, ms: 0, majorMs: 0 };
  loopDelay.reset();
  return stats;
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`URL ${url}\n`);
process.on('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});
