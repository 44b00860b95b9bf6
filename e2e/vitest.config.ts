import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Provisioning two databases and migrating them takes most of this.
    hookTimeout: 90_000,
  },
});
