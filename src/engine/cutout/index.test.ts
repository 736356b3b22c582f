import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, renderPackshot, shadowScore, type PackshotSpec } from '../../../test/fixtures/index.js';
import { chairInItsShadow, renderComposite } from '../../../test/fixtures/composite.js';
import { decodeImage, ImageDecodeError } from '../codec.js';
import { mask8, type Raster8 } from '../raster/types.js';
import { createCutout, type Cutout } from './index.js';
import { scoreMatte } from './metrics.js';

/**
 * The cutout with the real model on a small subset of the synthetic packshots. One file, so the
 * session is loaded once for all of them.
 */

let dir: string;
let cutout: Cutout;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reshoot-cutout-'));
  cutout = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 64 * 1024 * 1024, modelCacheDir: process.env.RESHOOT_MODEL_CACHE_DIR });
});

afterAll(async () => {
  await cutout.close();
  await rm(dir, { recursive: true, force: true });
});

/** Pixels under alpha 64 whose four neighbours are all over 128: holes one pixel wide. */
function pinholes(a: Buffer, w: number, h: number): number {
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (a[i]! < 64 && a[i - 1]! > 128 && a[i + 1]! > 128 && a[i - w]! > 128 && a[i + w]! > 128) n++;
    }
  }
  return n;
}

async function shot(spec: PackshotSpec): Promise<{ image: Raster8; alpha: Buffer }> {
  const p = await renderPackshot(spec);
  const { image } = await decodeImage(p.png, { maxPixels: 50e6 });
  return { image, alpha: p.alpha };
}

describe("the model's confident answer stands without evidence", () => {
  it('keeps a chair back open where its shadow darkens the sweep behind it (the old hole rule filled it with backdrop)', async () => {
    const c = await chairInItsShadow(720, 720);
    const { image } = await decodeImage(c.png, { maxPixels: 50e6 });
    const res = await cutout.cutout(image);
    let open = 0, filled = 0;
    for (let y = c.opening.y0; y < c.opening.y1; y++) {
      for (let x = c.opening.x0; x < c.opening.x1; x++) {
        if (c.alpha[y * c.width + x] !== 0) continue;
        open++;
        if (res.alpha[y * c.width + x]! >= 128) filled++;
      }
    }
    expect(open).toBeGreaterThan(10_000);
    expect(filled / open).toBeLessThan(0.01);
    expect(scoreMatte(mask8(res.alpha, c.width, c.height), mask8(c.alpha, c.width, c.height)).iou).toBeGreaterThan(0.97);
  });

  it('on a real scene, removes none of what the model is sure is product and adds none of what it is sure is background', async () => {
    // a white dripper in front of a photographed studio: the border looks plain enough to model, the
    // handle's opening shows dark clutter the backdrop model cannot explain (the old fill closed it)
    const c = await renderComposite('dripper-studio');
    const { image } = await decodeImage(c.png, { maxPixels: 50e6 });
    const res = await cutout.cutout(image);
    const g = res.guard!;
    expect(g.confidentForeground).toBeGreaterThan(100_000);
    expect(g.removed / g.confidentForeground).toBeLessThanOrEqual(0.002);
    expect(g.added / g.confidentBackground).toBeLessThanOrEqual(0.002);
    expect(scoreMatte(mask8(res.alpha, c.width, c.height), mask8(c.alpha, c.width, c.height)).iou).toBeGreaterThan(0.99);
  });
});

describe('cutout quality on synthetic packshots', () => {
  const cases: Array<[string, PackshotSpec, number]> = [
    ['can with a white label band', { ...FIXTURES.can, width: 720, height: 720 }, 0.95],
    ['white vase on white', { ...FIXTURES['white-on-white'], width: 720, height: 720 }, 0.97],
    ['plant with thin stems', { ...FIXTURES.stem, width: 800, height: 800 }, 0.95],
    ['white dripper with a handle on light grey', { ...FIXTURES.dripper, width: 800, height: 800 }, 0.95],
  ];
  const ious: number[] = [];

  it.each(cases)('%s: IoU over the threshold, floor shadow excluded', async (_name, spec, minIou) => {
    const { image, alpha } = await shot(spec);
    const res = await cutout.cutout(image);
    expect(res.cached).toBe(false);
    expect(res.alpha.length).toBe(image.width * image.height);
    const s = scoreMatte(mask8(res.alpha, image.width, image.height), mask8(alpha, image.width, image.height));
    ious.push(s.iou);
    expect(s.iou).toBeGreaterThanOrEqual(minIou);
    expect(s.boundaryF).toBeGreaterThan(0.85);
    expect(s.mae).toBeLessThan(0.01);
    const { shadowPixels, shadowKept } = shadowScore(spec, res.alpha);
    expect(shadowPixels).toBeGreaterThan(1000);
    expect(shadowKept).toBeLessThan(0.01);
  });

  it('mean IoU over the subset is at least 0.98', () => {
    expect(ious).toHaveLength(cases.length);
    expect(ious.reduce((a, b) => a + b, 0) / ious.length).toBeGreaterThanOrEqual(0.98);
  });

  it.each([['vase', FIXTURES.vase], ['dripper', FIXTURES.dripper]] as const)('keeps the thin lit lip at the back of the %s rim whole, which the model leaves at about 0.3', async (_name, spec) => {
    // the lip is a band one or two model pixels thick, lighter than the dark inside and off the
    // backdrop's colour; it used to read half-transparent on a dark background (boundary F 0.93 and
    // 0.95), and the dripper's was speckled with single-pixel holes (alpha 0 inside a lip at 0.7)
    const { image, alpha } = await shot(spec);
    const res = await cutout.cutout(image);
    const s = scoreMatte(mask8(res.alpha, image.width, image.height), mask8(alpha, image.width, image.height));
    expect(s.boundaryF).toBeGreaterThan(0.98);
    expect(s.iou).toBeGreaterThan(0.996);
    expect(pinholes(res.alpha, image.width, image.height)).toBeLessThan(10);
    // the floor's shadow (and the vase's glossy reflection) stays out
    expect(shadowScore(spec, res.alpha).shadowKept).toBeLessThan(0.01);
  });

});

describe('cutout plumbing', () => {
  it('removes the backdrop colour from edge pixels, then serves the repeat from the disk cache', async () => {
    const { image } = await shot({ ...FIXTURES.mug, width: 500, height: 500 });
    const entries = async () => (await readdir(path.join(dir, 'masks')).catch(() => [])).filter((name) => name.endsWith('.matte')).length;
    // earlier tests' entries may still be being written: count only once they are
    await cutout.idle();
    const before = await entries();
    const first = await cutout.cutout(image);
    // edge pixels of a teal mug must not stay light: the white backdrop is taken out of them
    let edge = 0, light = 0;
    const f = first.foreground.data;
    for (let i = 0; i < first.alpha.length; i++) {
      const a = first.alpha[i]!;
      if (a < 40 || a > 215) continue;
      edge++;
      if (f[i * 4]! > 200 && f[i * 4 + 1]! > 200 && f[i * 4 + 2]! > 200) light++;
    }
    expect(edge).toBeGreaterThan(100);
    expect(light / edge).toBeLessThan(0.02);

    // the entry is written after the miss returns; idle() waits for it
    await cutout.idle();
    expect(await entries()).toBe(before + 1);
    const second = await cutout.cutout(image);
    expect(second.cached).toBe(true);
    expect(second.timings.model).toBeUndefined();
    // the crop is built from the entry alone, before anything full-size exists
    expect(second.box).toEqual(first.box);
    expect(second.crop().data.equals(first.crop().data)).toBe(true);
    expect(second.alpha.equals(first.alpha)).toBe(true);
    expect(second.foreground.data.equals(first.foreground.data)).toBe(true);
    // the box is the tight box of alpha > 8, so the engine may crop with it instead of scanning the alpha
    const b = first.box;
    let inside = 0, over = 0, x0 = image.width, y0 = image.height, x1 = -1, y1 = -1;
    for (let i = 0; i < first.alpha.length; i++) {
      if (first.alpha[i]! <= 8) continue;
      over++;
      const x = i % image.width, y = Math.floor(i / image.width);
      if (x >= b.x && y >= b.y && x < b.x + b.width && y < b.y + b.height) inside++;
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    expect(b).toEqual({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
    expect(over).toBeGreaterThan(1000);
    expect(inside).toBe(over);
    expect(b.width).toBeLessThan(image.width);
    const files = await readdir(path.join(dir, 'masks'));
    expect(files.some((name) => name.endsWith('.matte'))).toBe(true);
    expect(files.some((name) => name.endsWith('.tmp'))).toBe(false);

    // a damaged entry is a miss that recomputes the same matte and repairs the entry
    for (const name of files) await writeFile(path.join(dir, 'masks', name), (await readFile(path.join(dir, 'masks', name))).subarray(0, 100));
    // (and a caller that hands its pixels over gets them back as the foreground, with the same values)
    const copy = { ...image, data: Buffer.from(image.data) };
    const third = await cutout.cutout(copy, { consume: true });
    expect(third.cached).toBe(false);
    expect(third.alpha.equals(first.alpha)).toBe(true);
    expect(third.foreground.data).toBe(copy.data);
    expect(third.foreground.data.equals(first.foreground.data)).toBe(true);
    expect((await cutout.cutout(image)).cached).toBe(true);
  });

  it('uses a meaningful alpha channel as it is', async () => {
    const w = 64, h = 64;
    const data = Buffer.alloc(w * h * 4, 200);
    for (let i = 0; i < w * h; i++) data[i * 4 + 3] = i % w < 32 ? 0 : 255;
    const res = await cutout.cutout({ data, width: w, height: h, channels: 4 }, { hasAlpha: true });
    expect(res.alpha[0]).toBe(0);
    expect(res.alpha[40]).toBe(255);
    expect(res.timings.model).toBeUndefined();
  });

  it('stops when the signal is aborted', async () => {
    const { image } = await shot({ ...FIXTURES.can, width: 300, height: 300, seed: 99 });
    const ac = new AbortController();
    ac.abort(new Error('stopped by test'));
    await expect(cutout.cutout(image, { signal: ac.signal })).rejects.toThrow('stopped by test');
  });

  it('rejects corrupt, truncated and empty files with a clear error', async () => {
    const good = (await renderPackshot({ ...FIXTURES.mug, width: 200, height: 200 })).png;
    const bad = [Buffer.alloc(0), good.subarray(0, good.length >> 1), Buffer.from('definitely not an image')];
    for (const b of bad) await expect(decodeImage(b, { maxPixels: 50e6 })).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(decodeImage(good, { maxPixels: 1000 })).rejects.toThrow(/pixel limit|over the/);
  });
});
