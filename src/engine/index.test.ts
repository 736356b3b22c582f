import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../../test/fixtures/index.js';
import { createEngine } from './index.js';
import type { TransformRequest } from './types.js';

// The engine as the worker and the CLI build it, with the tests' small segmentation model: which
// cutout setting each model's renders use.
const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-engine-index-'));
const engine = createEngine({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 64 << 20, maxInputPixels: 50e6, modelSize: 512, proModelSize: 640, modelPath: process.env.RESHOOT_MODEL_PATH, modelCacheDir: process.env.RESHOOT_MODEL_CACHE_DIR });
afterAll(() => engine.close());

describe('the cutout setting of each model', () => {
  it('renders the free model at its side and Pro at its own with a mirrored pass, each with its own cached mattes', async () => {
    const file = path.join(dir, 'mug.png');
    writeFileSync(file, (await renderPackshot({ product: 'mug', background: 'white', width: 400, height: 400 })).png);
    const req = (tier: TransformRequest['tier']): TransformRequest => ({ tier, prompt: 'on white', sources: [file], aspectRatio: '1:1', resolution: '1K', seed: 1, outputFormat: 'png' });
    const free = await engine.transform(req('standard'));
    expect(free.report.cutout).toEqual({ cached: false, modelSize: 512, mirrored: false });
    const pro = await engine.transform(req('pro'));
    // the free model's matte is not Pro's: Pro makes its own
    expect(pro.report.cutout).toEqual({ cached: false, modelSize: 640, mirrored: true });
    expect((await engine.transform(req('pro'))).report.cutout?.cached).toBe(true);
    expect((await engine.transform(req('standard'))).report.cutout?.cached).toBe(true);
  });
});
