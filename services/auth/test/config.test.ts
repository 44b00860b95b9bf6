import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const productionEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://auth@db/auth',
  JWT_SIGNING_KEYS: '[]',
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
  ])('refuses to start in production with %s', (_name, change, message) => {
    expect(() => loadConfig({ ...productionEnv, ...change })).toThrowError(ConfigError);
    expect(() => loadConfig({ ...productionEnv, ...change })).toThrowError(message);
  });

  it('rejects malformed values', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow();
    expect(() => loadConfig({ SERVICE_CLIENTS: 'no-secret' })).toThrowError(ConfigError);
  });
});
