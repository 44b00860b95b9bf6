import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', () => {
  it('defaults to the development stack: port 3002, real Stripe host unless STRIPE_API_URL, 3 grace days', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3002);
    expect(config.dunning).toEqual({
      pastDueDays: 14,
      restrictAfterDays: null,
      restricted: { features: {}, role: null },
    });
    expect(config.stripe.host).toBeUndefined();
    expect(config.stripe.webhookToleranceSeconds).toBe(300);
    expect(config.urls.success).toBe('http://localhost:8080/api/v1/success?session_id={CHECKOUT_SESSION_ID}');
    expect(config.redisKeyPrefix).toBe('tollgate:');
  });

  it('sizes the pools and the queue workers from the environment, with per-replica defaults', () => {
    const defaults = loadConfig({});
    expect(defaults.pools).toEqual({ database: 12, queue: 4 });
    expect(defaults.worker).toMatchObject({ heartbeatSeconds: 10, superviseSeconds: 2, batchSize: 10 });
    // The workers' concurrency stays below the Prisma pool, so HTTP requests still get a connection.
    expect(defaults.worker.webhookConcurrency + defaults.worker.roleSyncConcurrency).toBeLessThan(
      defaults.pools.database,
    );
    const tuned = loadConfig({ DATABASE_POOL_MAX: '5', QUEUE_POOL_MAX: '2', STRIPE_CATCHUP_SECONDS: '0' });
    expect(tuned.pools).toEqual({ database: 5, queue: 2 });
    expect(tuned.worker.catchupSeconds).toBe(0);
    expect(() => loadConfig({ QUEUE_HEARTBEAT_SECONDS: '5' })).toThrow();
  });

  it('reads the Stripe host, port and protocol from STRIPE_API_URL', () => {
    const config = loadConfig({ STRIPE_API_URL: 'http://127.0.0.1:12111', BILLING_GRACE_DAYS: '0.5' });
    expect(config.stripe).toMatchObject({ host: '127.0.0.1', port: 12111, protocol: 'http' });
    expect(config.dunning.pastDueDays).toBe(0.5);
    expect(() => loadConfig({ STRIPE_API_URL: 'ftp://x' })).toThrow(ConfigError);
  });

  it('reads the dunning policy, restricted step included, from one place', () => {
    const config = loadConfig({
      BILLING_GRACE_DAYS: '10',
      DUNNING_RESTRICT_AFTER_DAYS: '3',
      DUNNING_RESTRICTED_FEATURES: 'catalog_sd, projects=1',
      DUNNING_RESTRICTED_ROLE: 'subscriber',
    });
    expect(config.dunning).toEqual({
      pastDueDays: 10,
      restrictAfterDays: 3,
      restricted: { features: { catalog_sd: true, projects: 1 }, role: 'subscriber' },
    });
    expect(() => loadConfig({ DUNNING_RESTRICTED_FEATURES: 'projects=lots' })).toThrow(ConfigError);
  });

  it('refuses development secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /STRIPE_SECRET_KEY.*STRIPE_WEBHOOK_SECRET.*AUTH_CLIENT_SECRET.*ADMIN_PASSWORD.*ADMIN_COOKIE_SECRET/,
    );
    expect(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://db/billing',
        STRIPE_SECRET_KEY: 'sk_live_x',
        STRIPE_WEBHOOK_SECRET: 'whsec_real',
        AUTH_CLIENT_SECRET: 'a-long-production-secret-0123456789',
        ADMIN_PASSWORD: 'a-long-admin-password',
        ADMIN_COOKIE_SECRET: 'a-cookie-secret-of-at-least-32-characters',
      }).env,
    ).toBe('production');
  });

  it('refuses the admin panel’s known development passwords in production, whatever else is set', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://db/billing',
      STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_real',
      AUTH_CLIENT_SECRET: 'a-long-production-secret-0123456789',
      ADMIN_COOKIE_SECRET: 'a-cookie-secret-of-at-least-32-characters',
    };
    for (const admin of [
      {},
      { ADMIN_PASSWORD: 'admin' },
      { ADMIN_PASSWORD: 'Changeme' },
      { ADMIN_PASSWORD: 'tollgate' },
      { ADMIN_LOGIN: 'operator-account', ADMIN_PASSWORD: 'operator-account' },
    ]) {
      expect(() => loadConfig({ ...production, ...admin }), JSON.stringify(admin)).toThrow(/ADMIN_PASSWORD/);
    }
    expect(loadConfig({ ...production, ADMIN_PASSWORD: 'a-long-admin-password' }).admin.login).toBe('admin');
  });
});
