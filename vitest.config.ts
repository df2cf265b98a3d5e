import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup-env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end files each start their own local stack on random ports.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
