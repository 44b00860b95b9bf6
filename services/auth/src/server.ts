/** Starts the auth service: migrate and seed, then listen; closes gracefully on SIGINT/SIGTERM. */
import { GUARDED_PROCESS_EVENTS, installProcessGuard, startTracing } from '@tollgate/service-kit';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { bootstrapDatabase, StartupRefused } from './bootstrap.js';
import { loadConfig } from './config.js';
import { createPrismaClient } from './db/prisma.js';

// First: spans are exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0025).
const tracing = await startTracing('auth');
const config = loadConfig();
const db = createPrismaClient(config.databaseUrl, config.databasePoolMax);
const app = await buildApp(config, { db });
// Background work may fail a job, never the process.
installProcessGuard(app.log);
app.addHook('onClose', async () => db.$disconnect());

try {
  await bootstrapDatabase(config, db, (message) => app.log.info(message));
} catch (error) {
  if (!(error instanceof StartupRefused)) throw error;
  // The operator's instructions, without a stack trace in the way.
  console.error(error.message);
  await app.close();
  process.exit(1);
}

// The drain comes first and is not part of the 10 s allowed for closing.
const delay = config.shutdownDrainMs + 10_000;
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
