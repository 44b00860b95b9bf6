/**
 * npm run -w @tollgate/billing sync-stripe [-- --reconcile]
 *
 * Pulls the whole Stripe account into the local mirror (see
 * src/domain/sync/stripe-sync.ts), with a progress bar per resource, then prints
 * counts. --reconcile also compares auth's subscription grants with the
 * entitlements and enqueues fixes for the drift; the worker applies them.
 * The database is created and migrated first, so it works on a fresh one.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { createBilling } from '../context.js';
import { SYNC_ORDER, type SyncResource, stripeSyncFor } from '../domain/sync/stripe-sync.js';
import { runCommand } from './run.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { reconcile: { type: 'boolean', default: false } },
});

await runCommand('sync-stripe', async (config) => {
  const billing = await createBilling(config);
  const sync = stripeSyncFor(billing);
  const bars = new cliProgress.MultiBar(
    {
      format: ' {resource} | {value} synced | {state}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: true,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = new Map<SyncResource, cliProgress.SingleBar>(
    SYNC_ORDER.map((resource) => [
      resource,
      bars.create(0, 0, { resource: resource.padEnd(13), state: 'waiting' }),
    ]),
  );
  try {
    const report = await sync.run({
      page: (resource, done) => bar.get(resource)!.update(done, { state: 'pulling' }),
      finished: (resource, total) => bar.get(resource)!.update(total, { state: 'done' }),
    });
    bars.stop();
    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    console.log(
      `synced ${total} objects in ${report.seconds.toFixed(1)} s (${Math.round(total / Math.max(report.seconds, 0.001))}/s): ` +
        SYNC_ORDER.map((r) => `${report.counts[r]} ${r}`).join(', '),
    );
    console.log(`role syncs enqueued for changed entitlements: ${report.roleSyncsEnqueued}`);
    if (values.reconcile) {
      const r = await sync.reconcile();
      console.log(
        `reconcile: ${r.grantsInAuth} subscription grants in auth, ${r.entitled} entitled; ` +
          `${r.missingGranted} grants and ${r.extraRevoked} revocations enqueued`,
      );
      console.log(
        `reconcile: ${r.purchases.grantsInAuth} purchase grants in auth; ${r.purchases.missingGranted} grants and ` +
          `${r.purchases.extraRevoked} revocations enqueued; entitlements queued for auth again for ${r.entitlementsRepushed} users`,
      );
    }
  } finally {
    bars.stop();
    await billing.close();
  }
  return 0;
});
