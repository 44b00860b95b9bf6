/**
 * docker-compose.yml (issue 8 item 18): auth and billing believe
 * X-Forwarded-For only from the gateway, and nothing but the gateway and the
 * emulator's hosted pages is published on the host.
 */
import { readFile } from 'node:fs/promises';
import { BlockList, isIPv4 } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TEMPLATE_VARIABLES } from '../src/nginx.js';

interface ComposeService {
  container_name?: string;
  image?: string;
  ports?: string[];
  environment?: Record<string, string | null>;
  networks?: Record<string, { ipv4_address?: string } | null>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } }>;
}

const compose = parse(
  await readFile(path.join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8'),
) as ComposeFile;

/** `${NAME:-default}` -> default (what compose uses when .env leaves NAME unset). */
function defaultOf(value: string | null | undefined): string | undefined {
  return value?.match(/^\$\{[A-Z_]+:?-([^}]*)\}$/)?.[1] ?? value ?? undefined;
}

describe('compose: who may set the client address', () => {
  const gateway = compose.services.nginx?.networks?.default?.ipv4_address;

  it('nginx has a fixed address inside the network subnet', () => {
    expect(gateway && isIPv4(gateway)).toBe(true);
    const subnet = compose.networks?.default?.ipam?.config?.[0]?.subnet;
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const [network, prefix] = subnet!.split('/');
    const list = new BlockList();
    list.addSubnet(network!, Number(prefix));
    expect(list.check(gateway!)).toBe(true);
  });

  it.each(['auth', 'billing'])('%s trusts X-Forwarded-For from that address only', (name) => {
    const trust = defaultOf(compose.services[name]?.environment?.TRUST_PROXY);
    expect(trust).toBe(gateway);
  });

  it.each(['auth', 'billing', 'postgres', 'redis'])('%s publishes no port on the host', (name) => {
    expect(compose.services[name]?.ports ?? []).toEqual([]);
  });
});

describe('compose: docker compose up --scale auth=2 --scale billing=3', () => {
  it.each(['auth', 'billing'])('%s can have several containers: no container_name, no host port', (name) => {
    expect(compose.services[name]?.container_name).toBeUndefined();
    expect(compose.services[name]?.ports ?? []).toEqual([]);
  });

  it('nginx names each service once and re-resolves it through Docker’s DNS', () => {
    const env = compose.services.nginx?.environment ?? {};
    expect(env.AUTH_UPSTREAM).toBe('auth:3000');
    expect(env.BILLING_UPSTREAM).toBe('billing:3000');
    expect(env.UPSTREAM_SERVER_FLAGS).toBe('resolve');
    expect(env.NGINX_RESOLVER).toBe('127.0.0.11');
    // `resolve` on an upstream server: nginx 1.27.3 and later.
    const [major, minor] = (compose.services.nginx?.image ?? '')
      .replace(/^nginx:/, '')
      .split('.')
      .map(Number);
    expect((major ?? 0) * 1000 + (minor ?? 0)).toBeGreaterThanOrEqual(1028);
    const filter = new RegExp((env.NGINX_ENVSUBST_FILTER ?? '').replace('$$', '$'));
    expect(TEMPLATE_VARIABLES.filter((v) => filter.test(v))).toEqual([...TEMPLATE_VARIABLES]);
  });
});

describe('compose: --profile observability (issue 15 item 9)', () => {
  const root = path.join(import.meta.dirname, '..', '..');
  const extra = compose.services as Record<
    string,
    ComposeService & { profiles?: string[]; volumes?: string[]; command?: string[] }
  >;

  it('adds Prometheus, Grafana and Jaeger, only in that profile', () => {
    for (const name of ['prometheus', 'grafana', 'jaeger'])
      expect(extra[name]?.profiles).toEqual(['observability']);
    for (const name of ['auth', 'billing', 'nginx', 'postgres'])
      expect(extra[name]?.profiles).toBeUndefined();
    expect(extra.jaeger?.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
  });

  it('passes OTEL_EXPORTER_OTLP_ENDPOINT to auth and billing from .env only (unset: tracing off)', () => {
    for (const name of ['auth', 'billing']) {
      const env = compose.services[name]?.environment ?? {};
      expect(env).toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeNull();
    }
  });

  it("Prometheus scrapes every replica's /metrics and loads alerts.yml from its mount", async () => {
    const mounts = Object.fromEntries(
      (extra.prometheus?.volumes ?? []).map((v) => v.split(':').slice(0, 2).reverse() as [string, string]),
    );
    const config = parse(await readFile(path.join(root, 'deploy/observability/prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        metrics_path: string;
        dns_sd_configs: { names: string[]; port: number }[];
      }[];
    };
    expect(mounts['/etc/prometheus/prometheus.yml']).toBe('./deploy/observability/prometheus.yml');
    for (const rules of config.rule_files) expect(mounts[rules]).toBe('./deploy/observability/alerts.yml');
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job]));
    for (const name of ['auth', 'billing']) {
      expect(jobs[name]?.metrics_path).toBe('/metrics');
      expect(jobs[name]?.dns_sd_configs[0]).toMatchObject({ names: [name], port: 3000 });
      expect(compose.services[name]?.environment?.PORT).toBe('3000');
    }
  });

  it('Grafana is provisioned with Prometheus and the tollgate dashboard', async () => {
    const mounts = Object.fromEntries(
      (extra.grafana?.volumes ?? []).map((v) => v.split(':').slice(0, 2).reverse() as [string, string]),
    );
    expect(mounts['/etc/grafana/provisioning']).toBe('./deploy/observability/grafana/provisioning');
    const provider = parse(
      await readFile(
        path.join(root, 'deploy/observability/grafana/provisioning/dashboards/tollgate.yml'),
        'utf8',
      ),
    ) as { providers: { options: { path: string } }[] };
    const dashboardDir = provider.providers[0]?.options.path;
    expect(mounts[`${dashboardDir}/tollgate.json`]).toBe('./deploy/observability/grafana/tollgate.json');
    const sources = parse(
      await readFile(
        path.join(root, 'deploy/observability/grafana/provisioning/datasources/prometheus.yml'),
        'utf8',
      ),
    ) as { datasources: { type: string; url: string; isDefault?: boolean }[] };
    expect(sources.datasources.find((d) => d.isDefault)).toMatchObject({
      type: 'prometheus',
      url: 'http://prometheus:9090',
    });
  });
});
