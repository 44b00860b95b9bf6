import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 30_000,
    // Each file runs its own stack (billing database, auth, emulator), so files may run in parallel.
    fileParallelism: true,
  },
});
