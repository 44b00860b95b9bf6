import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The whole-system tests have their own configs (vitest.e2e.config.ts, npm run test:e2e;
    // vitest.chaos.config.ts, npm run test:chaos).
    exclude: [
      'test/browser.test.ts',
      'test/admin-panel.test.ts',
      'test/pages.test.ts',
      'test/plans-browser.test.ts',
      'test/account-mail.test.ts',
      'test/npm-start.test.ts',
      'test/chaos.test.ts',
      'test/replicas.test.ts',
      'test/social-login.test.ts',
    ],
    testTimeout: 30_000,
    // Provisioning two databases and migrating them takes most of this.
    hookTimeout: 90_000,
  },
});
