/**
 * Library entry: start the emulator in-process (e.g. from billing's or the
 * e2e tests) on a random port, and drive it with the official stripe SDK.
 *
 *   const emu = await startEmulator({ webhookUrl: 'http://127.0.0.1:3002/api/v1/webhook' });
 *   const stripe = new Stripe(emu.apiKey, emu.stripeConfig);
 *   ...
 *   await emu.close();
 */
import type { FastifyInstance } from 'fastify';
import { type AppDeps, buildApp } from './app.js';
import { type EmulatorConfig, loadConfig } from './config.js';
import type { Emulator } from './domain/core/emulator.js';
import { signPayload } from './domain/core/webhooks.js';
import { advanceTime } from './domain/test-clocks/scheduler.js';

export type { EmulatorConfig } from './config.js';
export { DEFAULT_API_KEY, DEFAULT_WEBHOOK_SECRET, loadConfig } from './config.js';
export { API_VERSION } from './domain/core/shapes.js';
export type { Delivery } from './domain/core/store.js';
export { buildApp, signPayload };

export interface RunningEmulator {
  /** Base URL, e.g. http://127.0.0.1:54321 */
  url: string;
  port: number;
  apiKey: string;
  webhookSecret: string;
  /** Options for `new Stripe(apiKey, stripeConfig)`. */
  stripeConfig: { host: string; port: number; protocol: 'http' };
  app: FastifyInstance;
  emulator: Emulator;
  /** Moves emulated time (and every test clock) forward, running renewals etc. */
  advanceTime(seconds: number): { now: number; steps: number };
  /** Resolves when every queued webhook delivery has succeeded or given up. */
  waitForWebhooks(): Promise<void>;
  close(): Promise<void>;
}

export async function startEmulator(
  options: Partial<EmulatorConfig> = {},
  deps: AppDeps = {},
): Promise<RunningEmulator> {
  // Defaults only: an in-process emulator is configured by its caller, not by the environment.
  const config: EmulatorConfig = {
    ...loadConfig({}),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'warn',
    ...options,
  };
  const app = await buildApp(config, deps);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  if (!config.publicUrl) app.emulator.publicUrl = url;
  return {
    url,
    port,
    apiKey: config.apiKey,
    webhookSecret: config.webhookSecret,
    stripeConfig: { host: config.host, port, protocol: 'http' },
    app,
    emulator: app.emulator,
    advanceTime: (seconds) => advanceTime(app.emulator, seconds),
    waitForWebhooks: () => app.emulator.webhooks.idle(),
    close: () => app.close(),
  };
}
