import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const productionEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://auth@db/auth',
  JWT_SIGNING_KEYS: '[]',
  TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  ADMIN_PASSWORD: 'a-long-production-password',
  SERVICE_CLIENTS: 'billing:0123456789abcdef0123456789abcdef:roles:write',
};

describe('loadConfig', () => {
  it('has development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3001,
      env: 'development',
      admin: { login: 'admin', password: 'admin' },
    });
    expect(config.serviceClients).toEqual([
      { id: 'billing', secret: 'billing-dev-secret', scopes: ['roles:write'] },
    ]);
    expect(config.swaggerDocuments).toEqual([{ name: 'billing', url: '/api/v1/openapi.json' }]);
  });

  it('accepts a production configuration with real secrets', () => {
    expect(loadConfig(productionEnv).env).toBe('production');
  });

  it.each([
    ['the default admin password', { ADMIN_PASSWORD: undefined }, /ADMIN_PASSWORD/],
    ['admin/admin', { ADMIN_PASSWORD: 'admin' }, /ADMIN_PASSWORD/],
    [
      'no signing keys (keys on disk are for development)',
      { JWT_SIGNING_KEYS: undefined },
      /JWT_SIGNING_KEYS/,
    ],
    ['the development service secret', { SERVICE_CLIENTS: undefined }, /SERVICE_CLIENTS/],
    ['a short service secret', { SERVICE_CLIENTS: 'billing:short:roles:write' }, /at least 24/],
    ['the default database', { DATABASE_URL: undefined }, /DATABASE_URL/],
    ['no TOTP encryption key', { TOTP_ENCRYPTION_KEY: undefined }, /TOTP_ENCRYPTION_KEY/],
    ['a TOTP key that is not 32 bytes', { TOTP_ENCRYPTION_KEY: 'c2hvcnQ=' }, /32 bytes/],
  ])('refuses to start in production with %s', (_name, change, message) => {
    expect(() => loadConfig({ ...productionEnv, ...change })).toThrowError(ConfigError);
    expect(() => loadConfig({ ...productionEnv, ...change })).toThrowError(message);
  });

  it('rejects malformed values', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow();
    expect(() => loadConfig({ SERVICE_CLIENTS: 'no-secret' })).toThrowError(ConfigError);
  });
});

describe('OIDC_PROVIDERS', () => {
  it('takes Google by preset and any other issuer by URL', () => {
    const config = loadConfig({
      OIDC_PROVIDERS: JSON.stringify([
        { name: 'google', client_id: 'g-id', client_secret: 'g-secret' },
        {
          name: 'corp',
          issuer: 'https://id.example.com',
          client_id: 'c-id',
          client_secret: 'c-secret',
          label: 'Corp',
        },
      ]),
    });
    expect(config.oidc.providers).toEqual([
      {
        name: 'google',
        label: 'Google',
        issuer: 'https://accounts.google.com',
        clientId: 'g-id',
        clientSecret: 'g-secret',
      },
      {
        name: 'corp',
        label: 'Corp',
        issuer: 'https://id.example.com',
        clientId: 'c-id',
        clientSecret: 'c-secret',
      },
    ]);
  });

  it('refuses entries it cannot use', () => {
    expect(() => loadConfig({ OIDC_PROVIDERS: '{' })).toThrow(ConfigError);
    expect(() =>
      loadConfig({ OIDC_PROVIDERS: '[{"name":"corp","client_id":"a","client_secret":"b"}]' }),
    ).toThrow(/needs an issuer/);
    expect(() => loadConfig({ OIDC_PROVIDERS: '[{"name":"google","client_id":"a"}]' })).toThrow(
      /client_secret/,
    );
    expect(() =>
      loadConfig({
        OIDC_PROVIDERS:
          '[{"name":"google","client_id":"a","client_secret":"b"},{"name":"google","client_id":"a","client_secret":"b"}]',
      }),
    ).toThrow(/unique/);
  });
});
