/**
 * `npm run build`'s output as production runs it (.ci/run builds before the
 * tests): each service started with plain node through tools/run-node.sh,
 * NODE_ENV=production and production's required settings, answering its
 * health probes; billing talking to the built auth and the built emulator;
 * the AdminJS panel served from the bundle made at build time; and no tsx
 * or esbuild anywhere in the processes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  freePort,
  type ProvisionedDatabase,
  type ProvisionedRedis,
  provisionDatabase,
  provisionRedis,
} from '@tollgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authEnv,
  billingEnv,
  emulatorEnv,
  productionSecrets,
  ROOT,
  type RunningService,
  startBuilt,
} from '../src/production.js';

let redis: ProvisionedRedis;
let authDb: ProvisionedDatabase;
let billingDb: ProvisionedDatabase;
const running: Record<string, RunningService> = {};

/** What the built services export by OTLP/HTTP (http/json): span names by trace id. */
const exported: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] = [];
let otlp: Server;
const TRACE_ID = randomBytes(16).toString('hex');

async function startOtlpReceiver(): Promise<string> {
  otlp = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: { scopeSpans?: { spans?: typeof exported }[] }[];
      };
      for (const r of body.resourceSpans ?? [])
        for (const s of r.scopeSpans ?? []) exported.push(...(s.spans ?? []));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => otlp.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(otlp.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  [redis, authDb, billingDb] = await Promise.all([
    provisionRedis('build'),
    provisionDatabase('build_auth'),
    provisionDatabase('build_billing'),
  ]);
  const secrets = await productionSecrets();
  const [authPort, billingPort, emulatorPort] = [await freePort(), await freePort(), await freePort()];
  const shared = { redisUrl: redis.url, redisKeyPrefix: redis.keyPrefix };
  // Tracing on in the bundles (ADR 0025), exported every 200 ms.
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: await startOtlpReceiver(), OTEL_BSP_SCHEDULE_DELAY: '200' };
  running.emulator = await startBuilt(
    'stripe-emulator',
    emulatorEnv(secrets, {
      port: emulatorPort,
      webhookUrl: `http://127.0.0.1:${billingPort}/api/v1/webhook`,
    }),
  );
  running.auth = await startBuilt('auth', {
    ...authEnv(secrets, { port: authPort, databaseUrl: authDb.url, ...shared }),
    ...tracing,
  });
  running.billing = await startBuilt('billing', {
    ...billingEnv(secrets, {
      port: billingPort,
      databaseUrl: billingDb.url,
      authUrl: running.auth.url,
      stripeUrl: running.emulator.url,
      ...shared,
    }),
    ...tracing,
  });
});

afterAll(async () => {
  await Promise.all(Object.values(running).map((service) => service.stop()));
  await Promise.all([authDb?.release(), billingDb?.release(), redis?.release()]);
  await new Promise((resolve) => otlp?.close(resolve));
});

/** The command line of a process and of every process under it. */
function commandLines(pid: number): string[] {
  const lines = [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()];
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  for (const child of children ? children.split(' ') : []) lines.push(...commandLines(Number(child)));
  return lines;
}

describe.each(['emulator', 'auth', 'billing'])('the built %s', (name) => {
  it('is live and ready, in production mode', async () => {
    const service = running[name]!;
    for (const probe of ['/health/live', '/health/ready']) {
      const response = await fetch(`${service.url}${probe}`);
      expect(response.status, `${name} ${probe}: ${service.output()}`).toBe(200);
    }
    expect(readFileSync(`/proc/${service.pid}/environ`, 'utf8').split('\0')).toContain('NODE_ENV=production');
  });

  it('runs node on dist/ only: no tsx, no esbuild, no wrapper', () => {
    const service = running[name]!;
    const lines = commandLines(service.pid);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\bnode .*dist\/server\.js$/);
    expect(lines[0]).not.toMatch(/tsx|esbuild|\.ts\b/);
  });
});

describe('the built services together', () => {
  let accessToken: string;

  it('auth registers and logs in a user (argon2, Prisma, signing keys from the environment)', async () => {
    const { auth } = running;
    const credentials = { login: 'build-check', password: 'a long enough passphrase 7' };
    const post = (route: string, body: object) =>
      fetch(`${auth!.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const registered = await post('/v1/auth/register', { ...credentials, email: 'build-check@example.com' });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const login = await post('/v1/auth/login', credentials);
    expect(login.status).toBe(200);
    accessToken = ((await login.json()) as { access_token: string }).access_token;
  });

  it("billing shows the emulator's catalogue and starts a checkout whose hosted page the emulator serves", async () => {
    const { billing, emulator } = running;
    const products = await fetch(`${billing!.url}/api/v1/products`);
    expect(products.status).toBe(200);
    const { data } = (await products.json()) as { data: { prices: { id: string }[] }[] };
    const price = data.flatMap((product) => product.prices)[0];
    expect(price, 'the catalogue billing mirrored at start').toBeDefined();

    // Billing asks auth for the user's email with its service token (client credentials).
    const checkout = await fetch(`${billing!.url}/api/v1/checkout`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        traceparent: `00-${TRACE_ID}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify({ price_id: price!.id }),
    });
    expect(checkout.status, await checkout.clone().text()).toBe(200);
    const { checkout_session_url } = (await checkout.json()) as { checkout_session_url: string };
    const page = await fetch(`${emulator!.url}${new URL(checkout_session_url).pathname}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('build-check@example.com');
  });

  it("the bundles export spans by OTLP: the checkout, its Stripe call and auth's answer to billing in the caller's trace", async () => {
    const wanted = [
      /^POST \/api\/v1\/checkout$/,
      /^stripe POST \/v1\/checkout\/sessions$/,
      /^GET \/internal\/.*:/,
    ];
    const names = () => exported.filter((s) => s.traceId === TRACE_ID).map((s) => s.name);
    for (let i = 0; i < 100 && !wanted.every((w) => names().some((n) => w.test(n))); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    for (const w of wanted)
      expect(
        names().some((n) => w.test(n)),
        `${w} in ${names().join(', ')}`,
      ).toBe(true);
  });

  it('billing serves the AdminJS panel with the component bundle made at build time', async () => {
    const { billing } = running;
    const login = await fetch(`${billing!.url}/admin/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('components.bundle.js');
    const bundle = await fetch(`${billing!.url}/admin/frontend/assets/components.bundle.js`);
    expect(bundle.status).toBe(200);
    const built = readFileSync(path.join(ROOT, 'services/billing/dist/adminjs/bundle.js'), 'utf8');
    expect(await bundle.text()).toBe(built);
    // AdminJS says so when it bundles at start, which production from the build never does.
    expect(billing!.output()).not.toContain('bundling user components');
  });
});
