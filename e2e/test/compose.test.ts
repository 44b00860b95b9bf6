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
