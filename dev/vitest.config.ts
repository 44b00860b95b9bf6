import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Each test runs `npm start` (tsx compiling the stack) once: tens of seconds on a busy machine.
    testTimeout: 90_000,
  },
});
