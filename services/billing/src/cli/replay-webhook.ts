/**
 * npm run -w @tollgate/billing replay-webhook -- <evt_id> [<evt_id> ...]
 * Puts stored webhook events back in line (e.g. dead ones after a fix); a
 * running worker processes them. The admin panel's replay action does the same.
 */
import { loadConfig } from '../config.js';
import { createBilling } from '../context.js';

const ids = process.argv.slice(2).filter((arg) => arg !== '--');
if (ids.length === 0) {
  console.error('usage: npm run -w @tollgate/billing replay-webhook -- <evt_id> [<evt_id> ...]');
  process.exit(2);
}
const billing = await createBilling(loadConfig());
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
process.exit(missing > 0 ? 1 : 0);
