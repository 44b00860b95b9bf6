/**
 * Issue 15, items 5-7: /metrics on billing, auth and the emulator, scraped
 * after a money-path run (checkout through the emulator -> webhook -> role in
 * auth), with the series the issue names and sensible values; then the alert
 * rules (deploy/observability/alerts.yml) and the Grafana dashboard
 * (deploy/observability/grafana/tollgate.json) checked against what was
 * scraped: every metric they query is one the services expose.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  bearer,
  eventually,
  newUser,
  PASSWORD,
  PREMIUM_MONTHLY,
  rolesInAuth,
  type Stack,
  startStack,
  subscribe,
} from './stack.js';
import { metricNamesIn, parseMetrics, type Scrape } from './support/prometheus.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const deploy = path.join(import.meta.dirname, '..', '..', '..', 'deploy', 'observability');

let stack: Stack;
const scraped: Record<'billing' | 'auth' | 'emulator', Scrape> = {} as never;

async function scrape(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

beforeAll(async () => {
  stack = await startStack({ METRICS_TOKEN });
  // The money path: a user pays on the emulator's page; the webhook reaches billing; auth grants the role.
  const user = await newUser(stack);
  await subscribe(stack, user, PREMIUM_MONTHLY);
  await eventually(async () => (await rolesInAuth(stack, user)).includes('premium'), 30_000);
  const api = await fetch(`${stack.billingUrl}/api/v1/subscription`, { headers: bearer(user) });
  expect(api.status).toBe(200);

  // One delivery of an event already in the inbox: a duplicate.
  const [event] = (await stack.stripe.events.list({ limit: 1 })).data;
  const payload = JSON.stringify(event);
  const signed = stack.stripe.webhooks.generateTestHeaderString({
    payload,
    secret: stack.emu.webhookSecret,
  });
  const again = await fetch(`${stack.billingUrl}/api/v1/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signed },
    body: payload,
  });
  expect(again.status).toBe(200);

  // Auth: a failed login, and a refresh token used twice (the second is a reuse).
  const login = (password: string) =>
    stack.auth.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { login: user.login, password },
    });
  expect((await login('not the password at all')).statusCode).toBe(401);
  const { refresh_token } = (await login(PASSWORD)).json() as { refresh_token: string };
  const refresh = () =>
    stack.auth.app.inject({ method: 'POST', url: '/v1/auth/refresh-token', payload: { refresh_token } });
  expect((await refresh()).statusCode).toBe(200);
  expect((await refresh()).statusCode).toBe(401);

  await stack.emu.waitForWebhooks();
  // Everything applied: the outbox and the inbox are empty again.
  await eventually(async () => {
    const s = await scrape(stack.billingUrl, METRICS_TOKEN);
    return s.value('billing_outbox_pending') === 0 && s.value('billing_inbox_depth') === 0;
  }, 30_000);
  scraped.billing = await scrape(stack.billingUrl, METRICS_TOKEN);
  scraped.auth = await scrape(stack.auth.url);
  scraped.emulator = await scrape(stack.emu.url);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('/metrics', () => {
  it('answers only to the METRICS_TOKEN when one is set, with a problem+json 401', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong-token-of-the-same-size-000',
      `Basic ${METRICS_TOKEN}`,
    ]) {
      const response = await fetch(`${stack.billingUrl}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ code: 'metrics_token_invalid' });
    }
  });

  it('has the process metrics and HTTP RED metrics by route pattern on every service', () => {
    const services = { billing: 'billing', auth: 'auth', emulator: 'stripe-emulator' } as const;
    for (const [key, s] of Object.entries(scraped)) {
      const service = services[key as keyof typeof services];
      expect(s.value('process_cpu_seconds_total', { service }), service).toBeGreaterThan(0);
      expect(s.value('process_resident_memory_bytes', { service }), service).toBeGreaterThan(0);
      expect(s.has('nodejs_eventloop_lag_p99_seconds'), service).toBe(true);
    }
    const b = scraped.billing;
    expect(
      b.value('http_requests_total', { route: '/api/v1/webhook', method: 'POST', status_code: '200' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      b.value('http_requests_total', { route: '/api/v1/checkout', method: 'POST' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      b.value('http_request_duration_seconds_count', { route: '/api/v1/subscription', status_code: '200' }),
    ).toBe(1);
    expect(
      scraped.auth.value('http_requests_total', { route: '/v1/auth/login', status_code: '401' }),
    ).toBeGreaterThanOrEqual(1);
    // Patterns only, never raw URLs: no ids, no query strings in a route label.
    for (const s of Object.values(scraped))
      for (const sample of s.samples('http_requests_total'))
        expect(sample.labels.route).not.toMatch(/\?|[0-9a-f]{8}-|cus_|sub_|cs_|evt_/);
  });

  it('has billing: webhooks received, duplicates, lag, queue gauges, role syncs, Stripe calls', () => {
    const b = scraped.billing;
    expect(
      b.value('billing_webhook_events_received_total', { type: 'checkout.session.completed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(b.sum('billing_webhook_events_duplicate_total')).toBeGreaterThanOrEqual(1);
    expect(b.value('billing_webhook_events_processed_total', { outcome: 'processed' })).toBeGreaterThan(1);
    // Lag from Stripe's creation to applied: observed, and (a local run) well under a minute.
    const lagCount = b.value('billing_webhook_processing_lag_seconds_count');
    expect(lagCount).toBeGreaterThan(1);
    expect(b.value('billing_webhook_processing_lag_seconds_sum') / lagCount).toBeLessThan(60);
    expect(b.value('billing_inbox_depth')).toBe(0);
    expect(b.value('billing_inbox_oldest_age_seconds')).toBe(0);
    expect(b.value('billing_webhook_dead_letters')).toBe(0);
    expect(b.value('billing_outbox_pending')).toBe(0);
    expect(b.value('billing_outbox_oldest_age_seconds')).toBe(0);
    expect(b.value('billing_role_sync_duration_seconds_count', { outcome: 'granted' })).toBe(1);
    expect(b.value('billing_role_sync_failures_total')).toBe(0);
    expect(
      b.value('billing_stripe_requests_total', {
        method: 'GET',
        resource: 'subscriptions/:id',
        outcome: 'success',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(b.sum('billing_stripe_requests_sent_total')).toBe(b.sum('billing_stripe_requests_total'));
    expect(b.sum('billing_stripe_request_duration_seconds_count')).toBe(
      b.sum('billing_stripe_requests_total'),
    );
  });

  it('has auth: logins by outcome, lockouts, refresh reuse, token verifications', () => {
    const a = scraped.auth;
    expect(a.value('auth_logins_total', { outcome: 'success' })).toBeGreaterThanOrEqual(2);
    expect(a.value('auth_logins_total', { outcome: 'invalid_credentials' })).toBe(1);
    expect(a.value('auth_lockouts_total')).toBe(0);
    expect(a.value('auth_refresh_token_reuse_total')).toBe(1);
    expect(a.value('auth_token_refreshes_total', { outcome: 'success' })).toBe(1);
    expect(a.value('auth_token_verifications_total', { kind: 'access', outcome: 'valid' })).toBeGreaterThan(
      0,
    );
    // Billing's role syncs come with a service token.
    expect(a.value('auth_token_verifications_total', { kind: 'service', outcome: 'valid' })).toBeGreaterThan(
      0,
    );
  });

  it('has the emulator: webhook deliveries and failures', () => {
    const e = scraped.emulator;
    expect(e.value('emulator_webhook_delivery_attempts_total', { result: 'succeeded' })).toBeGreaterThan(1);
    expect(e.value('emulator_webhook_deliveries_failed_total')).toBe(0);
  });
});

const exposed = () => new Set(Object.values(scraped).flatMap((s) => s.names()));

describe('deploy/observability', () => {
  it('alerts.yml: every rule parses and queries only metrics the services expose', async () => {
    const file = parseYaml(await readFile(path.join(deploy, 'alerts.yml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: object }[] }[];
    };
    const rules = file.groups.flatMap((g) => g.rules);
    const alerts = rules.map((r) => r.alert);
    // What issue 15 says should wake someone.
    for (const wanted of [
      'WebhookLagHigh',
      'WebhookDeadLetters',
      'RoleSyncsFailing',
      'RefreshTokenReuseSpike',
      'LoginFailureSpike',
      'Http5xxRate',
      'StripeErrors',
    ])
      expect(alerts).toContain(wanted);
    expect(new Set(alerts).size).toBe(alerts.length);
    const known = exposed();
    for (const rule of rules) {
      expect(rule.expr, rule.alert).toBeTruthy();
      expect(rule.labels, rule.alert).toHaveProperty('severity');
      if (rule.for) expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      const names = metricNamesIn(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(known, `${rule.alert}: ${name}`).toContain(name);
    }
  });

  it('the Grafana dashboard: every panel queries only metrics the services expose', async () => {
    const dashboard = JSON.parse(await readFile(path.join(deploy, 'grafana', 'tollgate.json'), 'utf8')) as {
      uid: string;
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe('tollgate');
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    const known = exposed();
    const queried = new Set<string>();
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = metricNamesIn(target.expr);
        expect(names.length, panel.title).toBeGreaterThan(0);
        for (const name of names) {
          expect(known, `${panel.title}: ${name}`).toContain(name);
          queried.add(name);
        }
      }
    }
    // The money path, auth and RED are on it.
    for (const name of [
      'billing_webhook_processing_lag_seconds_bucket',
      'billing_inbox_depth',
      'billing_role_sync_duration_seconds_count',
      'auth_logins_total',
      'auth_lockouts_total',
      'http_requests_total',
      'http_request_duration_seconds_bucket',
    ])
      expect(queried).toContain(name);
  });
});
