import { defineConfig } from 'vitest/config';

/**
 * `npm run test:e2e`, apart from `npm test`: the browser flow through nginx
 * (test/browser.test.ts), the admin panel in the browser
 * (test/admin-panel.test.ts), account mail in the browser
 * (test/account-mail.test.ts), social login in the browser (test/social-login.test.ts),
 * passkeys with Chromium's virtual authenticator (test/passkeys.test.ts)
 * and `npm start` itself (test/npm-start.test.ts),
 * one after the other (each runs a whole system).
 */
export default defineConfig({
  test: {
    include: [
      'test/browser.test.ts',
      'test/admin-panel.test.ts',
      'test/pages.test.ts',
      'test/plans-browser.test.ts',
      'test/account-mail.test.ts',
      'test/npm-start.test.ts',
      'test/social-login.test.ts',
      'test/passkeys.test.ts',
    ],
    fileParallelism: false,
    testTimeout: 60_000,
    // Two databases migrated, Chromium launched, AdminJS's bundle built.
    hookTimeout: 120_000,
  },
});
