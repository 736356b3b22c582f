import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { comboProblem, MODELS, outputSize, type AspectRatio, type Resolution } from '../contract/models.js';
import { renderPackshot } from '../../test/fixtures/index.js';
import { computeLayout, groundAt } from './compose/framing.js';
import { deltaE2000 } from './fidelity.js';
import { planScene } from '../plan/index.js';
import { decodeImage, resize } from './codec.js';
import { crop } from './raster/crop.js';
import { mask8, rgba8 } from './raster/types.js';
import { matteBox } from './cutout/cache.js';
import { transform, type CutoutFn } from './pipeline.js';
import type { TransformRequest } from './types.js';

const EDITORIAL = 'Place this exact white ceramic pour-over dripper on a dark slate stone surface with dramatic side lighting and a soft steam wisp, moody editorial product photography';
const opts = { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 };
const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-engine-'));
const files: Record<string, { file: string; cutout: CutoutFn }> = {};

// The fixtures' exact mattes stand in for the segmentation model: these tests are about the studio.
async function fixture(name: 'dripper' | 'cup', product: 'dripper' | 'cup'): Promise<void> {
  const shot = await renderPackshot({ product, background: 'light-grey', width: 360, height: 360, seed: 3 });
  const file = path.join(dir, `${name}.png`);
  writeFileSync(file, shot.png);
  const decoded = await decodeImage(shot.png, { maxPixels: 1e7 });
  const fg = Buffer.from(decoded.image.data);
  for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
  const cutout: CutoutFn = async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: shot.width, height: shot.height, channels: 4 }, cached: true });
  files[name] = { file, cutout };
}

function request(name: string, over: Partial<TransformRequest> = {}): TransformRequest {
  return { tier: 'standard', prompt: EDITORIAL, sources: [files[name]!.file], aspectRatio: '1:1', resolution: '1K', seed: 7, outputFormat: 'png', ...over };
}

const run = (name: string, over: Partial<TransformRequest> = {}) => transform(request(name, over), { opts, cutout: files[name]!.cutout });

async function raw(png: Uint8Array) {
  const { image } = await decodeImage(Buffer.from(png), { maxPixels: 1e8 });
  return { data: image.data, info: { width: image.width, height: image.height } };
}

beforeAll(async () => {
  await fixture('dripper', 'dripper');
  await fixture('cup', 'cup');
});

describe('studio transform', () => {
  it('is byte-identical for the same seed and varies with another', async () => {
    const a = await run('dripper');
    const b = await run('dripper');
    const c = await run('dripper', { seed: 8 });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(false);
    expect([a.width, a.height]).toEqual([1024, 1024]);
    expect(a.report.plan).toMatchObject({ surface: { material: 'slate' } });
    expect(Object.keys(a.report.timings)).toEqual(expect.arrayContaining(['decode', 'cutout', 'plan', 'scene', 'light', 'compose', 'fidelity', 'encode']));
    // relighting moves luminance, compositing alone barely moves anything
    expect(a.report.fidelity.deltaEUnlit!.mean).toBeLessThan(1.5);
    expect(a.report.fidelity.deltaE.mean).toBeGreaterThan(a.report.fidelity.deltaEUnlit!.mean);
  });

  it('returns only the framed product on transparency', async () => {
    const r = await run('dripper', { background: 'transparent', aspectRatio: '9:16', outputFormat: 'webp' });
    expect(r.mime).toBe('image/webp');
    const { data, info } = await raw(r.data);
    expect([info.width, info.height]).toEqual([576, 1024]);
    expect(data[3]).toBe(0);
    const p = r.report.placement;
    const cx = p.x + Math.round(p.width / 2);
    const cy = p.y + Math.round(p.height * 0.6);
    expect(data[(cy * info.width + cx) * 4 + 3]).toBe(255);
    expect(data[((info.height - 1) * info.width + info.width - 1) * 4 + 3]).toBe(0);
  });

  it('leaves product pixels untouched with relight_product false', async () => {
    const r = await run('dripper', { scene: { light: { relight_product: false }, effects: { steam: 0 } } });
    const { data, info } = await raw(r.data);
    const p = r.report.placement;
    const { cutout } = files.dripper!;
    const cut = await cutout({ data: Buffer.alloc(0), width: 0, height: 0, channels: 4 }, {});
    const box = matteBox(mask8(cut.alpha, cut.foreground.width, cut.foreground.height));
    const { data: expected } = await resize(crop(rgba8(cut.foreground.data, cut.foreground.width, cut.foreground.height), box), p.width, p.height);
    let compared = 0;
    let differing = 0;
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const e = (y * p.width + x) * 4;
        if (expected[e + 3] !== 255) continue;
        const o = ((y + p.y) * info.width + x + p.x) * 4;
        compared++;
        if (data[o] !== expected[e] || data[o + 1] !== expected[e + 1] || data[o + 2] !== expected[e + 2]) differing++;
      }
    }
    expect(compared).toBeGreaterThan(10000);
    expect(differing).toBe(0);
    expect(r.report.fidelity.deltaE.mean).toBeLessThan(1.5);
  });

  it('relights luminance only: the hue of a coloured product is kept', async () => {
    const lit = await run('cup', { scene: { effects: { steam: 0 } } });
    const flat = await run('cup', { scene: { light: { relight_product: false }, effects: { steam: 0 }, grade: { grain: 0 } } });
    const a = await raw(lit.data);
    const b = await raw(flat.data);
    const p = lit.report.placement;
    let n = 0;
    let hueErr = 0;
    let lumDiff = 0;
    for (let y = p.y + 4; y < p.y + p.height - 4; y += 3) {
      for (let x = p.x + 4; x < p.x + p.width - 4; x += 3) {
        const i = (y * a.info.width + x) * 4;
        const ra = [a.data[i]!, a.data[i + 1]!, a.data[i + 2]!];
        const rb = [b.data[i]!, b.data[i + 1]!, b.data[i + 2]!];
        const chroma = Math.max(...rb) - Math.min(...rb);
        if (chroma < 40 || Math.max(...ra) > 250 || Math.max(...ra) < 40) continue;
        const hue = (c: number[]) => Math.atan2(Math.sqrt(3) * (c[1]! - c[2]!), 2 * c[0]! - c[1]! - c[2]!);
        let d = Math.abs(hue(ra) - hue(rb));
        if (d > Math.PI) d = 2 * Math.PI - d;
        hueErr += d;
        lumDiff += Math.abs(ra.reduce((s, v) => s + v, 0) - rb.reduce((s, v) => s + v, 0)) / 3;
        n++;
      }
    }
    expect(n).toBeGreaterThan(500);
    expect((hueErr / n) * (180 / Math.PI)).toBeLessThan(3); // grain and 8-bit rounding only
    expect(lumDiff / n).toBeGreaterThan(3); // and the light did change it
  });
});

describe('framing', () => {
  it('gives every allowed ratio and resolution its output size with the product inside', () => {
    const plan = planScene('a bottle on marble');
    const box = { x: 10, y: 20, width: 300, height: 500 };
    const src = { width: 800, height: 600 };
    for (const spec of Object.values(MODELS)) {
      for (const ratio of spec.aspectRatios) {
        for (const res of spec.resolutions) {
          if (comboProblem(spec, ratio as AspectRatio, res as Resolution)) continue;
          const l = computeLayout(plan, ratio as AspectRatio, res as Resolution, src, box);
          const size = outputSize(ratio as AspectRatio, res as Resolution, src);
          expect([l.width, l.height]).toEqual([size.width, size.height]);
          expect(Math.max(l.width, l.height)).toBe(res === '1K' ? 1024 : res === '2K' ? 2048 : 3840);
          expect(l.product.x).toBeGreaterThanOrEqual(0);
          expect(l.product.y).toBeGreaterThanOrEqual(0);
          expect(l.product.x + l.product.width).toBeLessThanOrEqual(l.width);
          expect(l.product.y + l.product.height).toBeLessThanOrEqual(l.height);
          expect(Math.max(l.work.width, l.work.height)).toBeLessThanOrEqual(1440);
        }
      }
    }
    expect(computeLayout(plan, 'auto', '1K', src, box)).toMatchObject({ width: 1024, height: 768 });
  });

  it('keeps a squat product to the same share of the width as a tall one of the height', () => {
    const plan = planScene(EDITORIAL);
    const src = { width: 1000, height: 1000 };
    const squat = computeLayout(plan, '1:1', '1K', src, { x: 0, y: 0, width: 460, height: 400 });
    const tall = computeLayout(plan, '1:1', '1K', src, { x: 0, y: 0, width: 200, height: 600 });
    expect(tall.product.height / tall.height).toBeCloseTo(plan.framing.size, 2);
    expect(squat.product.width / squat.width).toBeLessThanOrEqual(plan.framing.size + 0.045);
    expect(squat.product.height / squat.height).toBeLessThan(plan.framing.size);
    // a landscape frame lets the product stand a little taller, so it stays the subject
    const banner = computeLayout(plan, '16:9', '1K', src, { x: 0, y: 0, width: 200, height: 600 });
    expect(banner.product.height / banner.height).toBeGreaterThan(plan.framing.size * 1.1);
  });

  it('frames a flat lay as an overhead still: the surface fills the frame, seen from high above', () => {
    const src = { width: 1000, height: 1000 };
    const box = { x: 0, y: 0, width: 400, height: 500 };
    const flat = computeLayout(planScene('flat lay on linen'), '1:1', '1K', src, box);
    const eye = computeLayout(planScene('on linen'), '1:1', '1K', src, box);
    expect(flat.camera.topDown).toBe(false);
    expect(flat.camera.edgeY).toBeLessThanOrEqual(0);
    expect(eye.camera.edgeY).toBeGreaterThan(eye.height * 0.3);
    // steeper: the surface is less foreshortened between the base and the top of the frame
    expect(groundAt(flat, 0).depth).toBeLessThan(groundAt(eye, eye.camera.edgeY + 1).depth);
  });

  it('reports an upscale when the source product is small', () => {
    const l = computeLayout(planScene('close-up'), '16:9', '4K', { width: 200, height: 200 }, { x: 0, y: 0, width: 100, height: 150 });
    expect(l.upscale).toBeGreaterThan(5);
  });
});

describe('deltaE2000', () => {
  it('matches the published test pairs (Sharma, Wu, Dalal)', () => {
    expect(deltaE2000(50, 2.6772, -79.7751, 50, 0, -82.7485)).toBeCloseTo(2.0425, 3);
    expect(deltaE2000(50, -1.3802, -84.2814, 50, 0, -82.7485)).toBeCloseTo(1.0, 3);
    expect(deltaE2000(50, 2.5, 0, 73, 25, -18)).toBeCloseTo(27.1492, 3);
    expect(deltaE2000(60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387)).toBeCloseTo(1.2644, 3);
  });
});
