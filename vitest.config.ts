import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const models = path.join(os.tmpdir(), 'reshoot-test-models');

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.ts'],
    // Generous: the first render in each server process loads the segmentation model, and CI machines are small.
    testTimeout: 240_000,
    hookTimeout: 180_000,
    // Image and model work is CPU-bound on a 2-core machine; a few files at a time keeps it stable.
    maxWorkers: 2,
    fileParallelism: true,
    // a memory check (test/api/fuzz.test.ts) collects garbage before it reads the process's footprint
    execArgv: ['--expose-gc'],
    // every server and CLI the tests start shares one optimised model, made by whichever loads it first
    env: {
      RESHOOT_MODEL_CACHE_DIR: models,
      // servers and CLIs segment with a model of under a kilobyte (test/helpers/tiny-model.ts, written by
      // the global setup); a test that needs the real weights sets RESHOOT_MODEL_PATH to '' (see REAL_MODEL)
      RESHOOT_MODEL_PATH: path.join(models, 'tiny-segmenter.onnx'),
    },
    globalSetup: ['test/global-setup.ts'],
  },
});
