import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, renderPackshot } from '../../../test/fixtures/index.js';
import { renderComposite } from '../../../test/fixtures/composite.js';
import { decodeImage } from '../codec.js';
import type { Raster8 } from '../raster/types.js';
import { createCutout } from './index.js';
import { loadSegmenter } from './session.js';

/**
 * Which side the model runs at: the plain-backdrop side for a packshot, the scene side for a photo
 * whose border is a room or foliage (the choice is made on the pixels, before the model, so the
 * model here is the suite's tiny one), and the side a cache hit reports.
 */

let dir: string;
const asked: number[] = [];
const segmenter = (size: number) => { asked.push(size); return loadSegmenter({ size, modelPath: process.env.RESHOOT_MODEL_PATH }); };
let packshot: Raster8;
let scene: Raster8;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reshoot-side-'));
  packshot = (await decodeImage((await renderPackshot(FIXTURES.mug)).png, { maxPixels: 100e6 })).image;
  scene = (await decodeImage((await renderComposite('stem-forest')).png, { maxPixels: 100e6 })).image;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the model side', () => {
  it('runs the plain side on a packshot and the scene side on a photo of a scene, and a cache hit says which it was', async () => {
    const c = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 64 * 1024 * 1024, modelSize: 768, sceneModelSize: 1024, segmenter });
    const a = await c.cutout(packshot);
    const b = await c.cutout(scene);
    expect([a.modelSize, b.modelSize]).toEqual([768, 1024]);
    expect(asked).toEqual([768, 1024]);
    await c.idle();
    const again = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 64 * 1024 * 1024, modelSize: 768, sceneModelSize: 1024, segmenter });
    const [a2, b2] = [await again.cutout(packshot), await again.cutout(scene)];
    expect([a2.cached, b2.cached]).toEqual([true, true]);
    expect([a2.modelSize, b2.modelSize]).toEqual([768, 1024]);
    expect(asked).toHaveLength(2);
    await Promise.all([c.close(), again.close()]);
  });

  it('runs one side for every photo when no scene side is set, under its own cache entries', async () => {
    asked.length = 0;
    const c = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 64 * 1024 * 1024, modelSize: 768, segmenter });
    const b = await c.cutout(scene);
    // the entry made with the scene side is not this setting's
    expect(b.cached).toBe(false);
    expect(b.modelSize).toBe(768);
    expect(asked).toEqual([768]);
    await c.close();
  });
});
