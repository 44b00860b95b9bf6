/** Starts billing: migrate, listen, run the queue workers in-process (unless RUN_WORKER=false); closes gracefully. */
import { GUARDED_PROCESS_EVENTS, installProcessGuard, startTracing } from '@tollgate/service-kit';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { bootstrapDatabase, seedCatalogIfEmpty } from './bootstrap.js';
import { loadConfigOrExit } from './config.js';
import { startWorkers } from './jobs/workers.js';

// First: spans are exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0025).
const tracing = await startTracing('billing');
const config = loadConfigOrExit();
await bootstrapDatabase(config, (message) => console.log(message));
const app = await buildApp(config);
// Background work (timers, queue handlers) may fail a job, never the process.
installProcessGuard(app.log);

try {
  await seedCatalogIfEmpty(app.billing, (message) => app.log.info(message));
} catch (error) {
  // Stripe being down must not keep billing from starting; product webhooks or sync-stripe fill it later.
  app.log.warn({ err: error }, 'could not mirror the catalogue from Stripe');
}

if (config.worker.runInProcess) {
  const workers = await startWorkers(app.billing, app.log);
  app.addHook('preClose', async () => workers.stop());
}

// The drain comes first and is not part of the 15 s allowed for closing.
const delay = config.shutdownDrainMs + 15_000;
closeWithGrace({ delay, skip: [...GUARDED_PROCESS_EVENTS] }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else {
    app.log.info({ signal, drainMs: config.shutdownDrainMs }, 'draining, then shutting down');
    await app.drain(config.shutdownDrainMs);
  }
  await app.close();
  await tracing.shutdown();
});

await app.listen({ host: config.host, port: config.port });
