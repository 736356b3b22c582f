import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../../../test/fixtures/index.js';
import { ENVIRONMENTS } from '../../contract/scene.js';
import { planScene } from '../../plan/index.js';
import { decodeImage } from '../codec.js';
import { transform, type CutoutFn } from '../pipeline.js';
import { loadEnvironment, reproject, type Hdr } from '../raster/hdri.js';
import { discBlur, environmentLook, pitchFor, prepareEnvironment, renderEnvironment, repairHighlights } from './environment.js';

const luma = (d: Float32Array, i: number) => 0.2126 * d[i * 3]! + 0.7152 * d[i * 3 + 1]! + 0.0722 * d[i * 3 + 2]!;

describe('choosing the photograph', () => {
  it('gives each lifestyle prompt a fitting photograph and keeps studio backdrops drawn', () => {
    const pick = (prompt: string) => environmentLook(planScene(prompt), 7)?.hdri ?? null;
    expect(pick('on a wooden counter with a blurred warm cafe interior behind it')).toBe('esplanade');
    expect(pick('on a marble counter in a bright home kitchen')).toBe('apartment');
    expect(pick('on a coffee table in a cozy living room')).toBe('apartment');
    expect(pick('on a workbench in a workshop')).toBe('workshop');
    expect(pick('in a hotel lobby')).toBe('lobby');
    expect(pick('on a desk in an office')).toBe('lobby');
    expect(pick('outdoors in a park')).toBe('park');
    expect(pick('in a park at golden hour')).toBe('sunrise');
    expect(pick('in a park at night')).toBe('night');
    expect(pick('on sand at the beach')).toBe('venice');
    expect(pick('on a stone ledge, city lights at night')).toBe('esplanade');
    expect(pick('on concrete in a city street')).toBe('city');
    expect(pick('in a forest')).toBe('forest');
    // studio backdrops and the drawn rooms without a photograph
    expect(pick('On a pastel pink seamless sweep, soft high-key studio light')).toBeNull();
    expect(pick('on marble in a bathroom')).toBeNull();
  });

  it('names only photographs that exist, for every environment and time of day', () => {
    const times = ['any', 'morning', 'golden-hour', 'noon', 'afternoon', 'evening', 'night'] as const;
    for (const env of ENVIRONMENTS.filter((e) => e !== 'none')) {
      for (const time of times) {
        const plan = planScene('a bottle', { scene: { backdrop: { kind: 'environment', environment: env }, light: { time_of_day: time } } });
        expect(() => environmentLook(plan, 1)).not.toThrow();
      }
    }
  });

  it('turns toward a view where the photograph’s window lights the set from the plan’s side', async () => {
    const { light } = await prepareEnvironment('apartment');
    // the plan's azimuth the photograph's light has when the camera turns by yaw
    const theta = (Math.atan2(light.direction[0], -light.direction[2]) * 180) / Math.PI;
    const implied = (yaw: number) => ((yaw + 180 - theta) % 360 + 540) % 360 - 180;
    for (const [prompt, az] of [['kitchen, light from the left', -90], ['kitchen, light from the right', 90]] as const) {
      for (const seed of [1, 2, 3, 4]) {
        const look = environmentLook(planScene(prompt), seed, light)!;
        expect(Math.abs(implied(look.yaw) - az)).toBeLessThan(65);
      }
    }
  });

  it('looks another way for another seed, and the same way for the same seed', () => {
    const plan = planScene('blurred warm cafe interior');
    const yaws = [1, 2, 3, 4, 5, 6].map((s) => environmentLook(plan, s)!.yaw);
    expect(new Set(yaws.map((y) => Math.round(y))).size).toBeGreaterThan(3);
    expect(environmentLook(plan, 3)!.yaw).toBe(yaws[2]);
  });
});

describe('the photographs', () => {
  it('repairs the compressed sun (a blue square) into a warm white of the same energy', async () => {
    const raw = await loadEnvironment('park');
    const fixed = repairHighlights(raw);
    // the brightest pixel of the stored map carries its light in the blue channel alone
    let at = 0;
    for (let i = 0; i < raw.width * raw.height; i++) if (raw.data[i * 3 + 2]! > raw.data[at * 3 + 2]!) at = i;
    expect(raw.data[at * 3]!).toBeLessThan(raw.data[at * 3 + 2]! * 0.05);
    const [r, g, b] = [fixed.data[at * 3]!, fixed.data[at * 3 + 1]!, fixed.data[at * 3 + 2]!];
    expect(r).toBeGreaterThan(b);
    expect(g).toBeGreaterThan(b * 0.9);
    // the block's light is kept
    const bx = (at % raw.width) - ((at % raw.width) % 8);
    const by = Math.floor(at / raw.width) - (Math.floor(at / raw.width) % 8);
    let before = 0;
    let after = 0;
    for (let y = by; y < by + 8; y++) {
      for (let x = bx; x < bx + 8; x++) {
        const i = (y * raw.width + x) * 3;
        before += raw.data[i]! + raw.data[i + 1]! + raw.data[i + 2]!;
        after += fixed.data[i]! + fixed.data[i + 1]! + fixed.data[i + 2]!;
      }
    }
    expect(after / before).toBeGreaterThan(0.95);
    expect(after / before).toBeLessThan(1.05);
  });

  it('puts the photograph’s horizon on the row the set asks for', () => {
    // a synthetic environment: bright sky over a dark ground
    const W = 256;
    const H = 128;
    const data = new Float32Array(W * H * 3);
    for (let y = 0; y < H / 2; y++) data.fill(1, y * W * 3, (y + 1) * W * 3);
    const env: Hdr = { data, width: W, height: H };
    for (const horizonY of [40, 90, 150]) {
      const view = reproject(env, { width: 320, height: 240, yaw: 0, pitch: pitchFor(horizonY, 240, 320, 56), fov: 56 });
      let row = 0;
      while (row < 240 && luma(view.data, row * 320 + 160) > 0.5) row++;
      expect(Math.abs(row - horizonY)).toBeLessThanOrEqual(2);
    }
  });
});

describe('lens blur', () => {
  it('spreads a point of light into a flat disc of the given radius and keeps its energy', () => {
    const w = 61;
    const h = 61;
    const src = new Float32Array(w * h * 3);
    src.fill(0.1);
    src.set([500, 400, 300], (30 * w + 30) * 3);
    const out = discBlur(src, w, h, 10);
    const at = (x: number, y: number) => out[(y * w + x) * 3]!;
    // inside the disc: flat; outside: the wall's own level
    expect(at(30, 30)).toBeCloseTo(at(36, 33), 3);
    expect(at(30, 21)).toBeCloseTo(at(30, 30), 3);
    expect(at(30, 42)).toBeCloseTo(0.1, 5);
    expect(at(43, 30)).toBeCloseTo(0.1, 5);
    let sum = 0;
    for (let i = 0; i < w * h; i++) sum += out[i * 3]! - 0.1;
    expect(sum).toBeCloseTo(500 - 0.1, 0);
    // a bokeh disc, not a gaussian: as bright at 80% of the radius as at its centre
    expect(at(38, 30) / at(30, 30)).toBeGreaterThan(0.99);
  });

  it('blooms the photograph’s lamps into discs far brighter than the wall around them', async () => {
    const look = environmentLook(planScene('blurred warm cafe interior'), 7)!;
    const W = 360;
    const H = 270;
    const v = await renderEnvironment({ look, width: W, height: H, horizonY: 90, blur: 0.85, quality: 'fast' });
    const l = Array.from({ length: W * H }, (_, i) => luma(v, i)).sort((a, b) => a - b);
    const median = l[Math.floor(l.length / 2)]!;
    // exposed for a backdrop: a mid level a stop or so under the product
    expect(median).toBeGreaterThan(0.03);
    expect(median).toBeLessThan(0.3);
    // the brightest 1% are lights, several times the median (they bloom past white in the grade)
    expect(l[Math.floor(l.length * 0.99)]! / median).toBeGreaterThan(4);
    // pure function of its request
    const again = await renderEnvironment({ look, width: W, height: H, horizonY: 90, blur: 0.85, quality: 'fast' });
    expect(Buffer.from(again.buffer).equals(Buffer.from(v.buffer))).toBe(true);
  });

  it('hands each caller its own view: drawing over one render’s backdrop leaves the next one’s as it was', async () => {
    const look = environmentLook(planScene('blurred warm cafe interior'), 7)!;
    // 480×360 upsamples the reduced view; 64×48 with no blur is rendered at its own size
    for (const [W, H, blur] of [[480, 360, 0.85], [64, 48, 0]] as const) {
      const first = await renderEnvironment({ look, width: W, height: H, horizonY: 40, blur, quality: 'fast' });
      const kept = Float32Array.from(first);
      first.fill(-1);
      const second = await renderEnvironment({ look, width: W, height: H, horizonY: 40, blur, quality: 'fast' });
      expect(second).not.toBe(first);
      expect(Buffer.from(second.buffer).equals(Buffer.from(kept.buffer))).toBe(true);
    }
  });

  it('is smooth after upsampling: no step between neighbouring pixels larger than a blur allows', async () => {
    const look = environmentLook(planScene('in a workshop'), 7)!;
    const W = 480;
    const H = 360;
    const v = await renderEnvironment({ look, width: W, height: H, horizonY: 100, blur: 0.85, quality: 'fast' });
    let worst = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 1; x < W; x++) {
        const a = Math.min(1, luma(v, y * W + x));
        const b = Math.min(1, luma(v, y * W + x - 1));
        worst = Math.max(worst, Math.abs(a - b));
      }
    }
    expect(worst).toBeLessThan(0.08);
  });
});

describe('an environment render', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-env-'));
  let file = '';
  let cutout: CutoutFn;
  beforeAll(async () => {
    const shot = await renderPackshot({ product: 'dripper', background: 'light-grey', width: 320, height: 320, seed: 3 });
    file = path.join(dir, 'dripper.png');
    writeFileSync(file, shot.png);
    const decoded = await decodeImage(shot.png, { maxPixels: 1e7 });
    const fg = Buffer.from(decoded.image.data);
    for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
    cutout = async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: shot.width, height: shot.height, channels: 4 }, cached: true });
  });

  it('puts the cafe photograph behind the counter, the same bytes for the same seed', async () => {
    const req = {
      tier: 'standard' as const, prompt: 'on a wooden cafe counter with a blurred warm cafe interior behind it, morning light',
      sources: [file], aspectRatio: '4:3' as const, resolution: '1K' as const, seed: 7, outputFormat: 'png' as const,
    };
    const opts = { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 };
    const a = await transform(req, { opts, cutout });
    const b = await transform(req, { opts, cutout });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(a.report.render?.environment?.photo).toBe('esplanade');
    // the backdrop holds lamps: the top third's brightest pixels are near white while its median is dim
    const img = (await decodeImage(Buffer.from(a.data), { maxPixels: 1e7 })).image;
    const top: number[] = [];
    for (let y = 0; y < Math.floor(img.height / 4); y++) {
      for (let x = 0; x < img.width; x++) {
        const i = (y * img.width + x) * img.channels;
        top.push((img.data[i]! + img.data[i + 1]! + img.data[i + 2]!) / 3);
      }
    }
    top.sort((p, q) => p - q);
    expect(top[Math.floor(top.length * 0.995)]!).toBeGreaterThan(200);
    expect(top[Math.floor(top.length / 2)]!).toBeLessThan(150);
    const env = await prepareEnvironment('esplanade');
    expect(env.mean).toBeGreaterThan(0);
  });
});
