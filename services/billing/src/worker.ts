/** `npm run -w @tollgate/billing worker`: the queue workers alone (run the server with RUN_WORKER=false). */
import { GUARDED_PROCESS_EVENTS, installProcessGuard, startTracing } from '@tollgate/service-kit';
import closeWithGrace from 'close-with-grace';
import Fastify from 'fastify';
import { bootstrapDatabase } from './bootstrap.js';
import { loadConfigOrExit } from './config.js';
import { createBilling } from './context.js';
import { startWorkers } from './jobs/workers.js';

// First: spans are exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0025).
const tracing = await startTracing('billing-worker');
const config = loadConfigOrExit();
// Fastify's logger (pino) without a server, so worker logs look like the service's.
const log = Fastify({ logger: { level: config.logLevel, name: 'billing-worker' } }).log;
installProcessGuard(log);
await bootstrapDatabase(config, (message) => log.info(message));
const billing = await createBilling(config);
billing.boss.on('error', (error: Error) => log.error({ err: error }, 'job queue error'));
const workers = await startWorkers(billing, log);
log.info('billing worker running');

closeWithGrace({ delay: 15_000, skip: [...GUARDED_PROCESS_EVENTS] }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'closing after an error');
  else log.info({ signal }, 'shutting down');
  await workers.stop();
  await billing.close();
  await tracing.shutdown();
});
