import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planScene } from '../../plan/index.js';
import { decodeImage, encodeImage } from '../codec.js';
import { transform, type CutoutFn } from '../pipeline.js';
import { srgbToLinearLut } from '../raster/color.js';
import { dominantLight, irradiance, projectSh } from '../raster/sh.js';
import { rgba8 } from '../raster/types.js';
import { prepareEnvironment } from '../scene/environment.js';
import type { TransformRequest } from '../types.js';
import { illuminant, relightProduct } from './relight.js';

const lin = srgbToLinearLut();
const luma = (r: number, g: number, b: number) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

/** A flat-coloured upright product (a can: a rectangle with rounded shoulders), so any shading seen is the light's. */
function flatProduct(w: number, h: number, rgb: [number, number, number]): Buffer {
  const out = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = Math.abs(x - w / 2) / (w * 0.42);
      const top = h * 0.06 + (dx > 0.8 ? (dx - 0.8) * h * 0.3 : 0);
      if (dx > 1 || y < top || y > h * 0.96) continue;
      out.set([...rgb, 255], (y * w + x) * 4);
    }
  }
  return out;
}

describe('spherical harmonics of an environment', () => {
  it('give back a uniform environment’s radiance on every normal and find a single source’s direction and colour', () => {
    const W = 128;
    const H = 64;
    const data = new Float32Array(W * H * 3).fill(0.5);
    const uniform = projectSh({ data, width: W, height: H });
    const e = [0, 0, 0];
    for (const n of [[0, 1, 0], [1, 0, 0], [0, 0, -1], [0.6, -0.8, 0]] as const) {
      irradiance(uniform, n[0], n[1], n[2], e);
      for (const c of e) expect(c).toBeCloseTo(0.5, 2);
    }
    expect(dominantLight(uniform).directionality).toBeLessThan(0.02);
    // a warm patch of light to the right (+x) and a little up, over a dim blue fill
    const lit = new Float32Array(W * H * 3);
    for (let i = 0; i < W * H; i++) lit.set([0.05, 0.06, 0.1], i * 3);
    for (let y = 24; y < 28; y++) for (let x = 94; x < 98; x++) lit.set([400, 300, 180], (y * W + x) * 3);
    const d = dominantLight(projectSh({ data: lit, width: W, height: H }));
    expect(d.direction[0]).toBeGreaterThan(0.9);
    expect(d.direction[1]).toBeGreaterThan(0.05);
    expect(d.colour[0]).toBeGreaterThan(d.colour[2]);
    expect(d.directionality).toBeGreaterThan(0.6);
  });

  it('read the apartment’s window as its dominant light, and the park’s sky as blue light from above', async () => {
    const apartment = await prepareEnvironment('apartment');
    expect(Math.abs(apartment.light.direction[1])).toBeLessThan(0.5);
    const park = await prepareEnvironment('park');
    const up = [0, 0, 0];
    const down = [0, 0, 0];
    irradiance(park.sh, 0, 1, 0, up);
    irradiance(park.sh, 0, -1, 0, down);
    expect(luma(up[0]!, up[1]!, up[2]!)).toBeGreaterThan(luma(down[0]!, down[1]!, down[2]!));
    expect(up[2]!).toBeGreaterThan(up[0]!);
  });
});

describe('the illuminant on the product', () => {
  it('is neutral for a studio light and warm for a warm scene; a warm environment warms a neutral light', async () => {
    const neutral = illuminant({ light: planScene('on a white seamless sweep, soft studio light').light });
    for (const c of neutral) expect(c).toBeCloseTo(1, 1);
    const cafe = planScene('in a warm morning cafe');
    const warm = illuminant({ light: cafe.light });
    expect(warm[0] / warm[2]).toBeGreaterThan(1.15);
    const env = await prepareEnvironment('esplanade');
    const studio = planScene('on a white seamless sweep, soft studio light').light;
    const withEnv = illuminant({ light: studio, environment: { sh: env.sh, yaw: 0, colour: env.light.colour } });
    expect(withEnv[0] / withEnv[2]).toBeGreaterThan(1.05);
    for (const p of ['golden hour sun', 'candlelight', 'in a cafe']) {
      const t = illuminant({ light: planScene(p).light });
      expect(t[0] / t[2]).toBeGreaterThan(1.1);
      // white balance: even candlelight leaves a white product cream, not orange
      expect(t[0] / t[2]).toBeLessThanOrEqual(1.56);
    }
  });

  it('changes only the light: every pixel of a many-coloured product is multiplied by the same colour', () => {
    const w = 60;
    const h = 90;
    const rgba = Buffer.alloc(w * h * 4);
    const colours: [number, number, number][] = [[220, 90, 90], [90, 180, 100], [100, 120, 220], [190, 180, 160]];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.set([...colours[Math.floor(y / (h / 4))]!, 255], (y * w + x) * 4);
    const light = planScene('golden hour, warm light').light;
    const out = relightProduct(rgba8(rgba, w, h), { light, exposure: 0 });
    const t = illuminant({ light });
    // (out_r / in_r) / (out_b / in_b) is the illuminant's red over blue wherever the product is
    const ratios: number[] = [];
    for (let y = 5; y < h - 5; y += 7) {
      for (let x = 10; x < w - 10; x += 7) {
        const i = (y * w + x) * 4;
        const gr = lin[out[i]!]! / lin[rgba[i]!]!;
        const gb = lin[out[i + 2]!]! / lin[rgba[i + 2]!]!;
        ratios.push(gr / gb);
      }
    }
    // within 8-bit rounding
    for (const r of ratios) expect(Math.abs(r / (t[0] / t[2]) - 1)).toBeLessThan(0.04);
  });
});

describe('light that reads, measured on renders', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-light-'));
  let file = '';
  let cutout: CutoutFn;
  const W = 260;
  const H = 420;
  const grey: [number, number, number] = [190, 190, 190];
  beforeAll(async () => {
    const rgba = flatProduct(W, H, grey);
    // on a plain light grey ground, its exact matte standing in for the segmentation model
    const rgb = Buffer.alloc(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      const a = rgba[i * 4 + 3]! / 255;
      for (let c = 0; c < 3; c++) rgb[i * 4 + c] = Math.round(rgba[i * 4 + c]! * a + 232 * (1 - a));
      rgb[i * 4 + 3] = 255;
    }
    file = path.join(dir, 'can.png');
    writeFileSync(file, await encodeImage(rgba8(rgb, W, H), 'png'));
    const alpha = Buffer.alloc(W * H);
    for (let i = 0; i < W * H; i++) alpha[i] = rgba[i * 4 + 3]!;
    cutout = async () => ({ alpha, foreground: rgba8(Buffer.from(rgba), W, H), cached: true });
  });

  const render = async (prompt: string, over: Partial<TransformRequest> = {}) => {
    const req: TransformRequest = { tier: 'standard', prompt, sources: [file], aspectRatio: '4:5', resolution: '1K', seed: 7, outputFormat: 'png', ...over };
    const r = await transform(req, { opts: { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 }, cutout });
    const img = (await decodeImage(Buffer.from(r.data), { maxPixels: 1e8 })).image;
    return { r, img };
  };

  /** Mean linear luminance of the product's left and right fifths (its middle rows) and its mean colour. */
  async function sides(prompt: string, over: Partial<TransformRequest> = {}) {
    const { r, img } = await render(prompt, over);
    const p = r.report.placement;
    const band = (f0: number, f1: number) => {
      let sum = 0;
      let n = 0;
      for (let y = Math.round(p.y + p.height * 0.35); y < p.y + p.height * 0.75; y++) {
        for (let x = Math.round(p.x + p.width * (0.5 + (f0 - 0.5) * 0.84)); x < p.x + p.width * (0.5 + (f1 - 0.5) * 0.84); x++) {
          const i = (y * img.width + x) * img.channels;
          sum += luma(lin[img.data[i]!]!, lin[img.data[i + 1]!]!, lin[img.data[i + 2]!]!);
          n++;
        }
      }
      return sum / n;
    };
    let rs = 0, bs = 0;
    for (let y = Math.round(p.y + p.height * 0.3); y < p.y + p.height * 0.8; y += 2) {
      for (let x = Math.round(p.x + p.width * 0.3); x < p.x + p.width * 0.7; x += 2) {
        const i = (y * img.width + x) * img.channels;
        rs += lin[img.data[i]!]!; bs += lin[img.data[i + 2]!]!;
      }
    }
    const left = band(0.04, 0.24);
    const right = band(0.76, 0.96);
    return { left, right, ratio: Math.max(left, right) / Math.min(left, right), redOverBlue: rs / bs };
  }

  it('dramatic, moody or hard side light: key to fill at least 4:1 across the product, lit on the named side', async () => {
    const dramatic = await sides('Place this product on a dark slate surface with dramatic side lighting, moody editorial');
    expect(dramatic.ratio).toBeGreaterThanOrEqual(4);
    expect(dramatic.left).toBeGreaterThan(dramatic.right); // side lighting comes from the left
    const hard = await sides('On black concrete, hard side light from the right, moody, dark backdrop');
    expect(hard.ratio).toBeGreaterThanOrEqual(4);
    expect(hard.right).toBeGreaterThan(hard.left);
    // a soft studio light keeps a gentle falloff
    const soft = await sides('On a white seamless sweep, soft diffused light from the left, catalogue shot');
    expect(soft.ratio).toBeLessThan(2);
    expect(soft.ratio).toBeGreaterThan(1.05);
  }, 60_000);

  it('warm scenes warm the light on the product; with relighting off the product keeps its own colour', async () => {
    const studio = await sides('On a white seamless sweep, soft studio light');
    const cafe = await sides('in a warm morning cafe, blurred background');
    const golden = await sides('On a stone ledge outdoors in a park at golden hour');
    expect(cafe.redOverBlue / studio.redOverBlue).toBeGreaterThan(1.12);
    expect(golden.redOverBlue / studio.redOverBlue).toBeGreaterThan(1.12);
    expect(studio.redOverBlue).toBeGreaterThan(0.95);
    expect(studio.redOverBlue).toBeLessThan(1.05);
    const off = await sides('in a warm morning cafe, blurred background', { scene: { light: { relight_product: false } } });
    expect(off.redOverBlue).toBeGreaterThan(0.97);
    expect(off.redOverBlue).toBeLessThan(1.03);
  }, 60_000);
});
