import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Image and model work is CPU-bound on a 2-core machine; a few files at a time keeps it stable.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
