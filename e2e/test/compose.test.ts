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

interface ComposeService {
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
