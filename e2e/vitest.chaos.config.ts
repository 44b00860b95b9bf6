import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the chaos drills (test/chaos.test.ts), one system of
 * separate processes shared by the drills, which run in order; then the
 * replica drill (test/replicas.test.ts: 7 processes behind nginx, a rolling
 * restart, about 2-3 minutes). About 2-4
 * minutes; bounded at 5 by the timeouts below.
 */
export default defineConfig({
  test: {
    include: ['test/chaos.test.ts', 'test/replicas.test.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
