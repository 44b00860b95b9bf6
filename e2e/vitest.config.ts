import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser flow has its own config (vitest.e2e.config.ts, npm run test:e2e).
    exclude: ['test/browser.test.ts'],
    testTimeout: 30_000,
    // Provisioning two databases and migrating them takes most of this.
    hookTimeout: 90_000,
  },
});
