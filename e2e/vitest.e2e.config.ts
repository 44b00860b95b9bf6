import { defineConfig } from 'vitest/config';

/** `npm run test:e2e`: the browser flow through nginx (test/browser.test.ts), apart from `npm test`. */
export default defineConfig({
  test: {
    include: ['test/browser.test.ts'],
    testTimeout: 60_000,
    // Two databases migrated, Chromium launched, AdminJS's bundle built.
    hookTimeout: 120_000,
  },
});
