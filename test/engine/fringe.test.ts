import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltaEMap, measureFringe, type FringeReport } from '../fixtures/fringe.js';
import { renderOver, renderRaw, type PackshotSpec } from '../fixtures/packshot.js';
import { decodeImage } from '../../src/engine/codec.js';
import { matteBox } from '../../src/engine/cutout/cache.js';
import { createCutout, type Cutout } from '../../src/engine/cutout/index.js';
import { transform, type CutoutFn } from '../../src/engine/pipeline.js';
import { mask8, type Box } from '../../src/engine/raster/types.js';

/**
 * Edge fringes where users meet them: a matte blue plastic tub (desaturated mid blue, a fine grain,
 * rounded edges) photographed on a light backdrop, cut out by the real model and rendered through the
 * whole studio path (relight, light wrap, compose) at 1K, on a dark scene and on a saturated orange one.
 * The reference is the true composite: the same render from the product's exact alpha and colours. The
 * fringe is the width, across the outline, of the band where the two differ by more than ΔE2000 10, in
 * output pixels (test/fixtures/fringe.ts). The product is enlarged about 1.5x at 1K, so a one-pixel
 * error at the source shows as more than one pixel in the output.
 */

const W = 700;
const SCENES = ['on a solid black background', 'on a solid orange background'];
const PHOTOS: Array<{ name: string; spec: PackshotSpec; encode: (s: Sharp) => Sharp }> = [
  { name: 'PNG on white', spec: { product: 'blue-plastic', background: 'white', width: W, height: W }, encode: (s) => s.png() },
  { name: 'JPEG q85 4:2:0 on light grey', spec: { product: 'blue-plastic', background: 'light-grey', width: W, height: W, noise: 2 }, encode: (s) => s.jpeg({ quality: 85, chromaSubsampling: '4:2:0' }) },
];

let dir: string;
let cutout: Cutout;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reshoot-fringe-'));
  cutout = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 0, modelCacheDir: process.env.RESHOOT_MODEL_CACHE_DIR });
});

afterAll(async () => {
  await cutout.close();
  await rm(dir, { recursive: true, force: true });
});

interface Truth { alpha: Buffer; colours: Buffer; box: Box }

/** The product's exact alpha and colours: rendered over black without noise, divided by its alpha. */
function truth(spec: PackshotSpec, grow = 0): Truth {
  const { width: w, height: h } = spec;
  const { alpha } = renderRaw(spec);
  const black = renderOver({ ...spec, noise: 0, shadow: 0 }, new Uint8Array(w * h * 3));
  const colours = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const a = alpha[i]! / 255;
    for (let c = 0; c < 3; c++) colours[i * 4 + c] = a > 0 ? Math.min(255, Math.round(black.rgb[i * 3 + c]! / a)) : 0;
    colours[i * 4 + 3] = alpha[i]!;
  }
  if (grow > 0) {
    // a matte `grow` px too wide, keeping the photo's own colours there: the backdrop's light at the edge
    const photo = renderRaw(spec).rgb;
    const grown = Buffer.from(alpha);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = 0;
        for (let dy = -grow; dy <= grow; dy++) for (let dx = -grow; dx <= grow; dx++) {
          const xx = x + dx, yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < w && yy < h && dx * dx + dy * dy <= grow * grow) m = Math.max(m, alpha[yy * w + xx]!);
        }
        grown[y * w + x] = m;
      }
    }
    for (let i = 0; i < w * h; i++) {
      if (grown[i] !== alpha[i]) for (let c = 0; c < 3; c++) colours[i * 4 + c] = photo[i * 3 + c]!;
      colours[i * 4 + 3] = grown[i]!;
    }
    return { alpha: grown, colours, box: matteBox(mask8(alpha, w, h)) };
  }
  return { alpha, colours, box: matteBox(mask8(alpha, w, h)) };
}

/** A cutout function that answers with the given matte (every run is placed by the true box, so all line up). */
function fixed(alpha: Buffer, colours: Buffer, box: Box): CutoutFn {
  return async () => ({ alpha: Buffer.from(alpha), foreground: { data: Buffer.from(colours), width: W, height: W, channels: 4 }, cached: true, box });
}

async function render(file: string, prompt: string, fn: CutoutFn): Promise<{ rgb: Buffer; width: number; height: number }> {
  const out = await transform({ tier: 'standard', prompt, sources: [file], aspectRatio: '1:1', resolution: '1K', seed: 7, outputFormat: 'png' },
    { opts: { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 }, cutout: fn });
  const { data, info } = await sharp(Buffer.from(out.data)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgb: data, width: info.width, height: info.height };
}

interface Reference { exact: { rgb: Buffer; width: number; height: number }; footprint: Uint8Array }
const references = new Map<string, Promise<Reference>>();

/** The true composite of a photo in a scene, and the product's footprint in it (made once per pair). */
function reference(file: string, prompt: string, t: Truth): Promise<Reference> {
  const key = `${file}\n${prompt}`;
  let ref = references.get(key);
  if (!ref) {
    ref = (async () => {
      const exact = await render(file, prompt, fixed(t.alpha, t.colours, t.box));
      // the footprint: where the same product in magenta differs from the true one
      const magenta = Buffer.alloc(t.colours.length);
      for (let i = 0; i < W * W; i++) { magenta[i * 4] = 255; magenta[i * 4 + 2] = 255; magenta[i * 4 + 3] = t.alpha[i]!; }
      const marked = await render(file, prompt, fixed(t.alpha, magenta, t.box));
      const n = exact.width * exact.height;
      const mark = deltaEMap(exact.rgb, marked.rgb, 3, n);
      const footprint = new Uint8Array(n);
      for (let i = 0; i < n; i++) footprint[i] = mark[i]! > 3 ? 1 : 0;
      return { exact, footprint };
    })();
    references.set(key, ref);
  }
  return ref;
}

/** Renders `fn`'s cutout into the scene and measures the fringe against the true composite. */
async function fringe(file: string, prompt: string, t: Truth, fn: CutoutFn): Promise<FringeReport> {
  const { exact, footprint } = await reference(file, prompt, t);
  const ours = await render(file, prompt, fn);
  return measureFringe(deltaEMap(ours.rgb, exact.rgb, 3, exact.width * exact.height), footprint, exact.width, exact.height);
}

async function writePhoto(photo: (typeof PHOTOS)[number]): Promise<{ file: string; bytes: Buffer }> {
  const { spec, encode } = photo;
  const file = path.join(dir, `tub-${spec.background}.${spec.background === 'white' ? 'png' : 'jpg'}`);
  const bytes = await encode(sharp(renderRaw(spec).rgb, { raw: { width: W, height: W, channels: 3 } })).toBuffer();
  await writeFile(file, bytes);
  return { file, bytes };
}

describe('edge fringes at 1K on contrasting scenes', () => {
  it('measures a light fringe where the matte keeps a band of the old backdrop', async () => {
    // the measurement itself: the exact cutout with its matte grown 2 px at the source (the white
    // backdrop kept along the edge) must read as a fringe wider than 1 px on the black scene
    const spec = PHOTOS[0]!.spec;
    const { file } = await writePhoto(PHOTOS[0]!);
    const t = truth(spec);
    const g = truth(spec, 2);
    const rep = await fringe(file, SCENES[0]!, t, fixed(g.alpha, g.colours, t.box));
    expect(rep.outline).toBeGreaterThan(1000);
    expect(rep.p95).toBeGreaterThan(1);
  }, 120_000);

  it.each(PHOTOS)('leaves no fringe wider than 1 px on the matte blue tub: $name', async (photo) => {
    const { spec } = photo;
    const { file, bytes } = await writePhoto(photo);
    const { image } = await decodeImage(bytes, { maxPixels: 50e6 });
    const cut = await cutout.cutout(image);
    const t = truth(spec);
    const ours: CutoutFn = async () => ({ alpha: Buffer.from(cut.alpha), foreground: { ...cut.foreground, data: Buffer.from(cut.foreground.data) }, cached: true, box: t.box });
    for (const scene of SCENES) {
      const rep = await fringe(file, scene, t, ours);
      expect(rep.outline, scene).toBeGreaterThan(1000);
      // 95% of the outline within 1 px of the true composite, and nowhere a band of many pixels wide
      expect(rep.p95, `${scene}: ${JSON.stringify(rep)}`).toBeLessThanOrEqual(1);
      expect(rep.mean, `${scene}: ${JSON.stringify(rep)}`).toBeLessThan(0.5);
    }
  }, 240_000);
});
