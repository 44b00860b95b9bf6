/**
 * npm start: all of tollgate on this machine, no Docker, no setup (what it
 * runs: src/stack.ts). Arguments and the environment are read here first, so
 * `--help` and a mistake in a variable answer at once, in words.
 */
import path from 'node:path';
import { loadStackConfig, type StackConfig, StartError } from './config.js';
import { usage } from './usage.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const args = process.argv.slice(2).filter((arg) => arg !== '--');

if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage());
  process.exit(0);
}
if (args.length > 0) {
  console.error(`[tollgate] unknown argument ${args[0]}: npm start takes no arguments (npm start -- --help)`);
  process.exit(2);
}

let stack: StackConfig;
try {
  stack = loadStackConfig(process.env, root);
} catch (error) {
  if (!(error instanceof StartError)) throw error;
  console.error(`[tollgate] ${error.message}`);
  process.exit(1);
}
// Loaded only now: the services' modules take a while to import, --help should not wait for them.
// Tracing first (one process, so one service name): on when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0025).
const { startTracing } = await import('@tollgate/service-kit');
await startTracing('tollgate-dev');
const { runStack } = await import('./stack.js');
await runStack(stack, root);
