/**
 * The configured OpenID providers and their discovered metadata. Discovery
 * runs in the background: a provider whose discovery document cannot be read
 * (yet) is unavailable (503) while auth keeps retrying with backoff, and
 * auth itself starts and serves everything else.
 */
import * as oidc from 'openid-client';
import { isLoopbackHttp, type OidcProviderConfig } from '../../config.js';
import { Problems } from '../../errors.js';

export interface ProvidersLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ProviderEntry {
  config: OidcProviderConfig;
  /** openid-client's view of the provider once discovery succeeded. */
  client?: oidc.Configuration;
}

export interface OidcProvidersOptions {
  log: ProvidersLog;
  /** First retry after this; doubles up to maxRetryMs. */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

export function discoverProvider(config: OidcProviderConfig): Promise<oidc.Configuration> {
  // Plain http only for a provider on this machine (the development provider).
  const insecure = isLoopbackHttp(config.issuer);
  return oidc.discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
    timeout: 10,
    ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
}

export function createOidcProviders(configs: readonly OidcProviderConfig[], options: OidcProvidersOptions) {
  const entries = new Map<string, ProviderEntry>(configs.map((config) => [config.name, { config }]));
  const timers = new Set<NodeJS.Timeout>();
  const firstRetryMs = options.firstRetryMs ?? 1_000;
  const maxRetryMs = options.maxRetryMs ?? 60_000;
  let stopped = false;

  async function discover(entry: ProviderEntry, delayMs: number): Promise<void> {
    if (stopped) return;
    try {
      entry.client = await discoverProvider(entry.config);
      options.log.info({ provider: entry.config.name }, 'OpenID provider discovered');
    } catch (error) {
      if (stopped) return;
      options.log.warn(
        { provider: entry.config.name, err: error, retryInMs: delayMs },
        'OpenID provider discovery failed; the provider is unavailable until it succeeds',
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        void discover(entry, Math.min(delayMs * 2, maxRetryMs));
      }, delayMs);
      timer.unref();
      timers.add(timer);
    }
  }

  return {
    /** Starts discovering every provider; resolves once each has succeeded or failed once. */
    async start(): Promise<void> {
      await Promise.all([...entries.values()].map((entry) => discover(entry, firstRetryMs)));
    },
    stop(): void {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
    /** The provider, ready to use: 404 when none has that name, 503 while it is not discovered. */
    get(name: string): Required<ProviderEntry> {
      const entry = entries.get(name);
      if (!entry) throw Problems.oauthProviderUnknown(`no login provider is called "${name}"`);
      if (!entry.client)
        throw Problems.oauthProviderUnavailable(
          `login provider "${name}" is not reachable yet; try again shortly`,
        );
      return { config: entry.config, client: entry.client };
    },
    list(): { name: string; label: string; available: boolean }[] {
      return [...entries.values()].map((entry) => ({
        name: entry.config.name,
        label: entry.config.label,
        available: entry.client !== undefined,
      }));
    },
  };
}

export type OidcProviders = ReturnType<typeof createOidcProviders>;
