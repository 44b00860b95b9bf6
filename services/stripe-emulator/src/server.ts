/** `npm start`: the emulator on PORT (12111) until SIGINT/SIGTERM. */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const app = await buildApp(config);

closeWithGrace({ delay: 5000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'closing because of an error');
  await app.close();
});

await app.listen({ host: config.host, port: config.port });
app.log.info(
  { publicUrl: app.emulator.publicUrl, webhookUrl: config.webhookUrl ?? null },
  'Stripe emulator ready: point the stripe SDK at it with { host, port, protocol: "http" }',
);
