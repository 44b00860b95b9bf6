/**
 * The auth service's whole configuration: one typed schema over the
 * environment. Nothing else in the service reads process.env.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError, loadEnv, parseTrustProxy } from '@tollgate/service-kit';
import { parseEncryptionKey } from './domain/mfa/secret-cipher.js';

export const DEV_ADMIN_PASSWORD = 'admin';
export const DEV_SERVICE_CLIENTS = 'billing:billing-dev-secret:roles:write';
const DEV_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tollgate_auth';

const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ default: 3001, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.String({ default: 'info' }),
  /**
   * On SIGTERM: seconds /health/ready answers 503 while requests are still
   * served (with Connection: close) before the server closes, so the load
   * balancer stops sending first (Kubernetes: longer than endpoint removal).
   */
  SHUTDOWN_DRAIN_SECONDS: Type.Number({ default: 0, minimum: 0, maximum: 120 }),
  DATABASE_URL: Type.String({ default: DEV_DATABASE_URL }),
  /** Prisma's pool per replica (see the root README's connection budget). */
  DATABASE_POOL_MAX: Type.Integer({ default: 12, minimum: 2 }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** Longest a Redis command may wait for its answer before the caller treats Redis as unavailable (ms). */
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ default: 250, minimum: 10 }),
  /** How often auth checks that Redis still holds every revocation and publishes any a failed write missed (ms). */
  REVOCATION_REPAIR_INTERVAL_MS: Type.Integer({ default: 1000, minimum: 50 }),
  /** Prefix of every Redis key (rate limits, lockouts, revocations); shared with verifiers. */
  REDIS_KEY_PREFIX: Type.String({ default: 'tollgate:' }),
  /** Trust X-Forwarded-* from these proxies: true, false, or comma-separated addresses, CIDRs or names (loopback, uniquelocal). */
  TRUST_PROXY: Type.String({ default: 'loopback' }),
  /** When set, GET /metrics answers only to `Authorization: Bearer <this>` (the gateway never routes it). */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),

  JWT_ISSUER: Type.String({ default: 'tollgate-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'tollgate' }),
  JWT_SERVICE_AUDIENCE: Type.String({ default: 'tollgate-internal' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ default: 900, minimum: 1 }),
  REFRESH_TOKEN_TTL_SECONDS: Type.Integer({ default: 30 * 24 * 3600, minimum: 1 }),
  SERVICE_TOKEN_TTL_SECONDS: Type.Integer({ default: 900, minimum: 1 }),
  /** How long a "not revoked" answer from Redis is reused (ms); revocations show everywhere within this. */
  REVOCATION_CACHE_MS: Type.Integer({ default: 500, minimum: 0, maximum: 1000 }),
  /** Production: a JSON array of private Ed25519 JWKs with `kid`, oldest first; the last one signs. */
  JWT_SIGNING_KEYS: Type.Optional(Type.String()),
  /** Development: where generated signing keys are kept between restarts. */
  KEYS_DIR: Type.String({ default: '.keys' }),

  ADMIN_LOGIN: Type.String({ default: 'admin' }),
  ADMIN_PASSWORD: Type.String({ default: DEV_ADMIN_PASSWORD }),
  ADMIN_EMAIL: Type.String({ default: 'admin@tollgate.local' }),
  /**
   * Users with the admin role must have a second factor (TOTP or a passkey):
   * until they set one up they can log in (to set it up) but every admin
   * route answers 403 mfa_setup_required.
   */
  ADMIN_REQUIRE_MFA: Type.Boolean({ default: false }),
  /**
   * 32 bytes, base64: TOTP secrets are stored encrypted with it (AES-256-GCM).
   * Required in production; secrets stored in clear before it was set are
   * encrypted at the next start.
   */
  TOTP_ENCRYPTION_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Comma-separated `client_id:secret:scope scope2` entries allowed to use the client-credentials grant. */
  SERVICE_CLIENTS: Type.String({ default: DEV_SERVICE_CLIENTS }),

  /** Requests per minute per client IP on each credential endpoint (login, register, refresh, token). */
  AUTH_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 30, minimum: 1 }),
  /**
   * Requests per hour per client IP on the endpoints that answer whether a
   * login or email is taken (register, PATCH /v1/auth/me); each has its own count.
   */
  ACCOUNT_RATE_LIMIT_PER_HOUR: Type.Integer({ default: 20, minimum: 1 }),
  /** Failed logins for one account from one address before it is locked out. */
  LOCKOUT_THRESHOLD: Type.Integer({ default: 10, minimum: 1 }),
  LOCKOUT_BASE_SECONDS: Type.Integer({ default: 60, minimum: 1 }),
  LOCKOUT_MAX_SECONDS: Type.Integer({ default: 900, minimum: 1 }),

  /**
   * Where account mail (email verification, password reset, email change)
   * goes: an SMTP URL such as smtp://user:pass@mail:587 or smtps://... .
   * Unset: no mail is sent (each would-be mail is logged without its link).
   */
  SMTP_URL: Type.Optional(Type.String()),
  MAIL_FROM: Type.String({ default: 'tollgate <no-reply@tollgate.localhost>' }),
  /** The public address of tollgate's pages; links in mail point there (e.g. https://tollgate.example). */
  PUBLIC_URL: Type.String({ default: 'http://localhost:8080' }),
  /**
   * Social login providers, a JSON array of
   * `{"name", "client_id", "client_secret", "issuer"?, "label"?}`; `name`
   * "google" needs no issuer (https://accounts.google.com). Empty: none.
   */
  OIDC_PROVIDERS: Type.String({ default: '' }),
  /** Auth's public base URL as browsers reach it (the gateway); callbacks are `<base>/v1/auth/oauth/<name>/callback`. */
  OIDC_PUBLIC_BASE_URL: Type.String({ default: 'http://localhost:8080' }),
  /** Comma-separated front-end URLs a provider login may return to; the first is the default. */
  OIDC_FRONTEND_URLS: Type.String({ default: 'http://localhost:8080/' }),

  /** Passkeys: the WebAuthn relying party ID, the site's registrable domain (a passkey works only there). */
  WEBAUTHN_RP_ID: Type.String({ default: 'localhost' }),
  /** Passkeys: the name authenticators show next to a passkey. */
  WEBAUTHN_RP_NAME: Type.String({ default: 'tollgate' }),
  /** Passkeys: comma-separated origins (scheme://host[:port]) of the pages that may use them. */
  WEBAUTHN_ORIGINS: Type.String({ default: 'http://localhost:8080' }),

  /** Extra OpenAPI documents for Swagger UI, as `name=url` pairs separated by commas. */
  SWAGGER_DOCUMENTS: Type.String({ default: 'billing=/api/v1/openapi.json' }),
});

type RawConfig = Static<typeof ConfigSchema>;

export interface ServiceClient {
  id: string;
  secret: string;
  scopes: string[];
}

export interface Config {
  env: RawConfig['NODE_ENV'];
  host: string;
  port: number;
  logLevel: string;
  /** SHUTDOWN_DRAIN_SECONDS in ms. */
  shutdownDrainMs: number;
  databaseUrl: string;
  databasePoolMax: number;
  redisUrl: string;
  redisKeyPrefix: string;
  redisCommandTimeoutMs: number;
  revocationRepairIntervalMs: number;
  trustProxy: boolean | string[];
  /** METRICS_TOKEN: the bearer token /metrics asks for, if any. */
  metricsToken?: string;
  jwt: {
    issuer: string;
    audience: string;
    serviceAudience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    serviceTtlSeconds: number;
    signingKeys?: string;
    keysDir: string;
  };
  /** `passwordGiven`: ADMIN_PASSWORD was set (rather than the development default). */
  admin: { login: string; password: string; email: string; passwordGiven: boolean; requireMfa: boolean };
  serviceClients: ServiceClient[];
  rateLimitPerMinute: number;
  accountRateLimitPerHour: number;
  revocationCacheMs: number;
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  swaggerDocuments: { name: string; url: string }[];
  mail: { smtpUrl?: string; from: string; publicUrl: string };
  oidc: OidcConfig;
  webauthn: WebauthnConfig;
  /** TOTP_ENCRYPTION_KEY, decoded (32 bytes); none: secrets stored in clear (development). */
  totpEncryptionKey?: Buffer;
}

export interface WebauthnConfig {
  rpId: string;
  rpName: string;
  origins: string[];
}

export interface OidcProviderConfig {
  /** In URLs: /v1/auth/oauth/<name>/login. */
  name: string;
  /** Shown on buttons ("Sign in with <label>"). */
  label: string;
  /** The issuer; its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface OidcConfig {
  providers: OidcProviderConfig[];
  publicBaseUrl: string;
  frontendUrls: string[];
}

/** The presets: providers known by name, so that only their client id and secret are configured. */
const OIDC_PRESETS: Record<string, { issuer: string; label: string }> = {
  google: { issuer: 'https://accounts.google.com', label: 'Google' },
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseUrl(value: string, what: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new ConfigError(`${what} "${value}" is not a URL`);
  }
}

export function parseOidcConfig(raw: {
  OIDC_PROVIDERS: string;
  OIDC_PUBLIC_BASE_URL: string;
  OIDC_FRONTEND_URLS: string;
}): OidcConfig {
  let entries: unknown = [];
  if (raw.OIDC_PROVIDERS.trim()) {
    try {
      entries = JSON.parse(raw.OIDC_PROVIDERS);
    } catch {
      throw new ConfigError('OIDC_PROVIDERS must be a JSON array');
    }
  }
  if (!Array.isArray(entries)) throw new ConfigError('OIDC_PROVIDERS must be a JSON array');
  const providers = entries.map((entry: Record<string, unknown>, index): OidcProviderConfig => {
    const name = entry?.name;
    if (typeof name !== 'string' || !/^[a-z0-9-]{1,32}$/.test(name))
      throw new ConfigError(`OIDC_PROVIDERS[${index}].name must be 1-32 of a-z, 0-9, -`);
    const preset = OIDC_PRESETS[name];
    const issuer = typeof entry.issuer === 'string' ? entry.issuer : preset?.issuer;
    if (!issuer) throw new ConfigError(`OIDC_PROVIDERS "${name}" needs an issuer (no preset has that name)`);
    parseUrl(issuer, `OIDC_PROVIDERS "${name}" issuer`);
    if (typeof entry.client_id !== 'string' || !entry.client_id)
      throw new ConfigError(`OIDC_PROVIDERS "${name}" needs client_id`);
    if (typeof entry.client_secret !== 'string' || !entry.client_secret)
      throw new ConfigError(`OIDC_PROVIDERS "${name}" needs client_secret`);
    const label = typeof entry.label === 'string' ? entry.label : (preset?.label ?? name);
    return { name, label, issuer, clientId: entry.client_id, clientSecret: entry.client_secret };
  });
  const names = new Set(providers.map((p) => p.name));
  if (names.size !== providers.length) throw new ConfigError('OIDC_PROVIDERS names must be unique');
  const frontendUrls = raw.OIDC_FRONTEND_URLS.split(',')
    .map((url) => url.trim())
    .filter(Boolean)
    .map((url) => parseUrl(url, 'OIDC_FRONTEND_URLS entry').href);
  if (providers.length > 0 && frontendUrls.length === 0)
    throw new ConfigError('OIDC_FRONTEND_URLS must name at least one front-end URL');
  const base = parseUrl(raw.OIDC_PUBLIC_BASE_URL, 'OIDC_PUBLIC_BASE_URL');
  return { providers, publicBaseUrl: base.href.replace(/\/$/, ''), frontendUrls };
}

/** Whether plain http is acceptable for this URL: only on the loopback interface (a local provider). */
export function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname);
}

export function parseWebauthnConfig(raw: {
  WEBAUTHN_RP_ID: string;
  WEBAUTHN_RP_NAME: string;
  WEBAUTHN_ORIGINS: string;
}): WebauthnConfig {
  const origins = raw.WEBAUTHN_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
    .map((origin) => parseUrl(origin, 'WEBAUTHN_ORIGINS entry').origin);
  if (origins.length === 0) throw new ConfigError('WEBAUTHN_ORIGINS must name at least one origin');
  for (const origin of origins) {
    const host = new URL(origin).hostname;
    // The browser refuses an RP ID that is not the page's host or a parent domain of it.
    if (host !== raw.WEBAUTHN_RP_ID && !host.endsWith(`.${raw.WEBAUTHN_RP_ID}`))
      throw new ConfigError(
        `WEBAUTHN_ORIGINS entry ${origin} is not on WEBAUTHN_RP_ID ${raw.WEBAUTHN_RP_ID}`,
      );
  }
  return { rpId: raw.WEBAUTHN_RP_ID, rpName: raw.WEBAUTHN_RP_NAME, origins };
}

function parseTotpKey(value: string): Buffer {
  try {
    return parseEncryptionKey(value);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

export { ConfigError };

function parseServiceClients(value: string): ServiceClient[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, secret, ...scopeParts] = entry.split(':');
      const scopes = scopeParts.join(':').split(' ').filter(Boolean);
      if (!id || !secret)
        throw new ConfigError(`SERVICE_CLIENTS entry "${id ?? ''}" needs client_id:secret:scopes`);
      return { id, secret, scopes };
    });
}

function parseSwaggerDocuments(value: string): { name: string; url: string }[] {
  return value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new ConfigError(`SWAGGER_DOCUMENTS entry "${pair}" needs name=url`);
      return { name: pair.slice(0, at), url: pair.slice(at + 1) };
    });
}

/** Everything that only makes sense on a developer's machine: in production, any refuses the start. */
function productionProblems(raw: RawConfig, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!env.DATABASE_URL) problems.push('DATABASE_URL must be set');
  if (!raw.JWT_SIGNING_KEYS) problems.push('JWT_SIGNING_KEYS must be set (keys on disk are for development)');
  if (raw.ADMIN_PASSWORD === DEV_ADMIN_PASSWORD || raw.ADMIN_PASSWORD.length < 12) {
    problems.push(
      'ADMIN_PASSWORD must be set to a password of at least 12 characters, not the development default',
    );
  }
  if (!raw.TOTP_ENCRYPTION_KEY)
    problems.push('TOTP_ENCRYPTION_KEY must be set (32 random bytes, base64: openssl rand -base64 32)');
  if (raw.SERVICE_CLIENTS === DEV_SERVICE_CLIENTS)
    problems.push('SERVICE_CLIENTS must not use the development secret');
  for (const client of parseServiceClients(raw.SERVICE_CLIENTS)) {
    if (client.secret.length < 24)
      problems.push(`SERVICE_CLIENTS secret of "${client.id}" must be at least 24 characters`);
  }
  for (const provider of parseOidcConfig(raw).providers) {
    if (new URL(provider.issuer).protocol !== 'https:')
      problems.push(`OIDC_PROVIDERS "${provider.name}" issuer must be https`);
  }
  return problems;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw = loadEnv(ConfigSchema, env, productionProblems);
  return {
    env: raw.NODE_ENV,
    host: raw.HOST,
    port: raw.PORT,
    logLevel: raw.LOG_LEVEL,
    shutdownDrainMs: raw.SHUTDOWN_DRAIN_SECONDS * 1000,
    databaseUrl: raw.DATABASE_URL,
    databasePoolMax: raw.DATABASE_POOL_MAX,
    redisUrl: raw.REDIS_URL,
    redisKeyPrefix: raw.REDIS_KEY_PREFIX,
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    revocationRepairIntervalMs: raw.REVOCATION_REPAIR_INTERVAL_MS,
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    ...(raw.METRICS_TOKEN ? { metricsToken: raw.METRICS_TOKEN } : {}),
    jwt: {
      issuer: raw.JWT_ISSUER,
      audience: raw.JWT_AUDIENCE,
      serviceAudience: raw.JWT_SERVICE_AUDIENCE,
      accessTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: raw.REFRESH_TOKEN_TTL_SECONDS,
      serviceTtlSeconds: raw.SERVICE_TOKEN_TTL_SECONDS,
      signingKeys: raw.JWT_SIGNING_KEYS,
      keysDir: raw.KEYS_DIR,
    },
    admin: {
      login: raw.ADMIN_LOGIN,
      password: raw.ADMIN_PASSWORD,
      email: raw.ADMIN_EMAIL,
      passwordGiven: env.ADMIN_PASSWORD !== undefined,
      requireMfa: raw.ADMIN_REQUIRE_MFA,
    },
    serviceClients: parseServiceClients(raw.SERVICE_CLIENTS),
    rateLimitPerMinute: raw.AUTH_RATE_LIMIT_PER_MINUTE,
    accountRateLimitPerHour: raw.ACCOUNT_RATE_LIMIT_PER_HOUR,
    revocationCacheMs: raw.REVOCATION_CACHE_MS,
    lockout: {
      threshold: raw.LOCKOUT_THRESHOLD,
      baseSeconds: raw.LOCKOUT_BASE_SECONDS,
      maxSeconds: raw.LOCKOUT_MAX_SECONDS,
    },
    swaggerDocuments: parseSwaggerDocuments(raw.SWAGGER_DOCUMENTS),
    mail: {
      smtpUrl: raw.SMTP_URL || undefined,
      from: raw.MAIL_FROM,
      publicUrl: raw.PUBLIC_URL.replace(/\/+$/, ''),
    },
    oidc: parseOidcConfig(raw),
    webauthn: parseWebauthnConfig(raw),
    ...(raw.TOTP_ENCRYPTION_KEY ? { totpEncryptionKey: parseTotpKey(raw.TOTP_ENCRYPTION_KEY) } : {}),
  };
}
