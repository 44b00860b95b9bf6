/**
 * npm run -w @tollgate/billing replay-webhook -- <evt_id> [<evt_id> ...]
 * Puts stored webhook events back in line (e.g. dead ones after a fix); a
 * running worker processes them. The admin panel's replay action does the same.
 */
import { createBilling } from '../context.js';
import { runCommand } from './run.js';

const ids = process.argv.slice(2).filter((arg) => arg !== '--');
if (ids.length === 0) {
  console.error('usage: npm run -w @tollgate/billing replay-webhook -- <evt_id> [<evt_id> ...]');
  process.exit(2);
}
await runCommand('replay-webhook', async (config) => {
  const billing = await createBilling(config);
  let missing = 0;
  try {
    for (const id of ids) {
      if (await billing.inbox.replay(id)) console.log(`${id}: queued for processing`);
      else {
        console.error(`${id}: no such event in the inbox`);
        missing++;
      }
    }
  } finally {
    await billing.close();
  }
  return missing > 0 ? 1 : 0;
});
