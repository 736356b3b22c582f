import type { TestProject } from 'vitest/node';
import { writeTinySegmenterModel } from './helpers/tiny-model.js';

/** Writes the small segmentation model that vitest.config.ts points RESHOOT_MODEL_PATH at. */
export default function setup(project: TestProject): void {
  const file = project.config.env.RESHOOT_MODEL_PATH;
  if (!file) throw new Error('Expected RESHOOT_MODEL_PATH in the test environment (vitest.config.ts) but it is unset');
  writeTinySegmenterModel(file);
}
