import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../../../test/fixtures/index.js';
import { renderScenePhoto } from '../../../test/fixtures/scenes.js';
import { coverRgb, decodeImage } from '../codec.js';
import { transform, type CutoutFn } from '../pipeline.js';
import type { TransformRequest } from '../types.js';
import type { ScenePlan } from '../../contract/scene.js';

// Pro references through the whole engine. Product fixtures carry their exact mattes (standing in for
// the segmentation model); scene and style images get an empty matte, as a model finds no object.
const opts = { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 };
const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-refs-'));
// composites land next to the inputs, to look at when a test fails
const SHOW = dir;
const mattes = new Map<string, { alpha: Buffer; fg: Buffer }>();
const keyOf = (w: number, h: number, d: Buffer) => `${w}x${h}:${createHash('sha1').update(d).digest('hex')}`;

const cutout: CutoutFn = async (image) => {
  const m = mattes.get(keyOf(image.width, image.height, image.data));
  if (m) return { alpha: Buffer.from(m.alpha), foreground: { data: m.fg, width: image.width, height: image.height, channels: 4 }, cached: true };
  const fg = Buffer.alloc(image.width * image.height * 4);
  return { alpha: Buffer.alloc(image.width * image.height), foreground: { data: fg, width: image.width, height: image.height, channels: 4 }, cached: false };
};

async function product(name: string, kind: 'dripper' | 'cup' | 'bottle' | 'can', width = 360, height = 360, light = -35): Promise<string> {
  const shot = await renderPackshot({ product: kind, background: 'light-grey', width, height, seed: 3, light });
  const file = path.join(dir, `${name}.png`);
  writeFileSync(file, shot.png);
  const decoded = await decodeImage(shot.png, { maxPixels: 1e7 });
  const fg = Buffer.from(decoded.image.data);
  for (let i = 0; i < width * height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
  mattes.set(keyOf(width, height, decoded.image.data), { alpha: Buffer.from(shot.alpha), fg });
  return file;
}

async function scene(name: 'room' | 'landscape' | 'sunset' | 'cool-night') {
  const s = await renderScenePhoto(name);
  const file = path.join(dir, `${name}.png`);
  writeFileSync(file, s.png);
  return { file, ...s };
}

const files: Record<string, string> = {};
let room: Awaited<ReturnType<typeof scene>>;

const req = (sources: string[], over: Partial<TransformRequest> = {}): TransformRequest =>
  ({ tier: 'pro', prompt: 'on a light oak table, soft window light', sources, aspectRatio: '1:1', resolution: '1K', seed: 11, outputFormat: 'png', ...over });
const run = async (r: TransformRequest, show?: string) => {
  const out = await transform(r, { opts, cutout });
  if (SHOW && show) writeFileSync(path.join(SHOW, `${show}.png`), out.data);
  return out;
};
const planOf = (r: Awaited<ReturnType<typeof run>>) => r.report.plan as ScenePlan;
async function rgb(png: Uint8Array) {
  const { image } = await decodeImage(Buffer.from(png), { maxPixels: 1e8 });
  const { data } = await coverRgb(image, image.width, image.height);
  return { data, info: { width: image.width, height: image.height } };
}

beforeAll(async () => {
  files.dripper = await product('dripper', 'dripper');
  files.bottle = await product('bottle', 'bottle', 300, 400);
  files.can = await product('can', 'can', 360, 360);
  room = await scene('room');
  files.room = room.file;
  files.landscape = (await scene('landscape')).file;
  files.sunset = (await scene('sunset')).file;
  files.cool = (await scene('cool-night')).file;
});

describe('roles', () => {
  it('come from input.roles, the prompt, or detection, and the plan shows them', async () => {
    const given = planOf(await run(req([files.dripper!, files.room!], { roles: ['product', 'scene'] })));
    expect(given.references).toEqual([{ index: 1, role: 'product', source: 'input.roles' }, { index: 2, role: 'scene', source: 'input.roles' }]);
    const said = planOf(await run(req([files.room!, files.dripper!], { prompt: 'place the product from image 2 on the table in image 1' })));
    expect(said.references).toEqual([{ index: 1, role: 'scene', source: 'prompt' }, { index: 2, role: 'product', source: 'prompt' }]);
    const seen = planOf(await run(req([files.dripper!, files.landscape!], { prompt: 'on the grass' })));
    expect(seen.references).toEqual([{ index: 1, role: 'product', source: 'default' }, { index: 2, role: 'scene', source: 'detected' }]);
    const two = planOf(await run(req([files.dripper!, files.bottle!])));
    expect(two.references!.map((r) => r.role)).toEqual(['product', 'product']);
  });
});

describe('several products', () => {
  it('stand as a group on one base line, apart, sizes relative to their sources', async () => {
    const out = await run(req([files.dripper!, files.bottle!, files.can!]), 'group');
    const { data, info } = await rgb(out.data);
    const p = out.report.placement;
    // find the three products' column spans along the row just above the base (product pixels differ from the set)
    expect(planOf(out).references!.length).toBe(3);
    expect(p.width).toBeGreaterThan(p.height * 0.9);
    // the group keeps the sources' pixel-height ratio: bottle 400px source vs 360px others
    const cols: number[] = [];
    for (let x = p.x; x < p.x + p.width; x++) {
      let top = -1;
      for (let y = p.y; y < p.y + p.height; y++) {
        const o = (y * info.width + x) * 3;
        const prev = ((y - 3) * info.width + x) * 3;
        if (Math.abs(data[o]! - data[prev]!) + Math.abs(data[o + 2]! - data[prev + 2]!) > 40) { top = y; break; }
      }
      cols.push(top);
    }
    expect(cols.some((t) => t >= 0)).toBe(true);
  });

  it('honours scene.placement sizes', async () => {
    const a = await run(req([files.dripper!, files.can!]));
    const b = await run(req([files.dripper!, files.can!], { scene: { placement: { sizes: [1, 0.5] } } }));
    // the second product at half the first's height makes the group narrower for the same height
    expect(b.report.placement.width / b.report.placement.height).toBeLessThan(a.report.placement.width / a.report.placement.height);
  });
});

describe('into a scene photo', () => {
  it('stands the product on the table top, lit from the photo\'s side, with a shadow beside it', async () => {
    const out = await run(req([files.dripper!, files.room!], { prompt: 'place the product from image 1 on the table in image 2' }), 'room');
    const plan = planOf(out);
    const p = out.report.placement;
    const base = (p.y + p.height) / out.height;
    expect(base).toBeCloseTo(plan.scene_photo!.surface_y, 2);
    // on the table top: between its back and front edges
    expect(base).toBeGreaterThan(room.geometry.backEdge! + 0.02);
    expect(base).toBeLessThan(room.geometry.frontEdge!);
    expect(plan.scene_photo!.light.azimuth).toBeLessThan(0); // the window is on the left
    expect(plan.light.azimuth).toBe(plan.scene_photo!.light.azimuth);
    expect(plan.scene_photo!.light.temperature).toBeLessThan(5000); // warm window light
    // a shadow: the table right of the product's base (away from the light) is darker than the photo
    const { data: photo } = await coverRgb((await decodeImage(room.png, { maxPixels: 1e8 })).image, out.width, out.height);
    const { data } = await rgb(out.data);
    let drop = 0;
    let n = 0;
    const y0 = Math.round(p.y + p.height * 0.97);
    for (let y = y0; y < y0 + 6; y++) {
      for (let x = p.x + p.width; x < p.x + p.width + Math.round(p.width * 0.4); x++) {
        const o = (y * out.width + x) * 3;
        drop += (photo[o]! + photo[o + 1]! - data[o]! - data[o + 1]!) / 2;
        n++;
      }
    }
    expect(drop / n).toBeGreaterThan(4);
    expect(out.report.fidelity.deltaEUnlit!.mean).toBeLessThan(3);
  });

  it('takes scene.placement', async () => {
    const out = await run(req([files.dripper!, files.room!], { roles: ['product', 'scene'], scene: { placement: { x: 0.3, y: 0.7, height: 0.3 } } }));
    const p = out.report.placement;
    expect((p.y + p.height) / out.height).toBeCloseTo(0.7, 2);
    expect((p.x + p.width / 2) / out.width).toBeCloseTo(0.3, 1);
    expect(p.height / out.height).toBeCloseTo(0.3, 1);
  });
});

describe('style reference', () => {
  it('borrows palette, temperature and light side, and the plan says so', async () => {
    const plain = planOf(await run(req([files.dripper!])));
    const warm = await run(req([files.dripper!, files.sunset!], { prompt: 'on a plinth, in the style of the second image' }), 'style-sunset');
    const cool = await run(req([files.dripper!, files.cool!], { prompt: 'on a plinth', roles: ['product', 'style'] }), 'style-cool');
    const w = planOf(warm);
    const c = planOf(cool);
    expect(w.style_from?.index).toBe(2);
    expect(w.references![1]).toEqual({ index: 2, role: 'style', source: 'prompt' });
    expect(w.light.temperature).toBeLessThan(plain.light.temperature);
    expect(c.light.temperature).toBeGreaterThan(w.light.temperature);
    expect(w.light.from).toMatch(/right/);
    expect(c.grade.exposure).toBeLessThan(w.grade.exposure);
    expect(w.palette.colors.length).toBeGreaterThan(0);
    // the set really turns warm: red over blue of the frame's corners
    const { data } = await rgb(warm.data);
    const { data: cd } = await rgb(cool.data);
    expect(data[0]! - data[2]!).toBeGreaterThan(cd[0]! - cd[2]!);
  });
});

describe('scene_from', () => {
  it('renders three angles with one plan and seed into matching backdrops', async () => {
    const first = await run(req([files.dripper!], { prompt: 'on dark slate, dramatic side light' }));
    const angles = [await product('angle-a', 'dripper', 360, 360, -60), await product('angle-b', 'dripper', 360, 360, 10), await product('angle-c', 'dripper', 360, 360, 60)];
    const outs = [];
    for (const [i, f] of angles.entries()) outs.push(await run(req([f], { prompt: 'another angle', basePlan: first.report.plan, planMode: 'reuse', seed: 11 }), `angle-${i}`));
    const imgs = await Promise.all(outs.map((o) => rgb(o.data)));
    for (const o of outs) expect(o.report.plan).toEqual(first.report.plan);
    // backdrop regions (outside the product boxes and their shadows) match
    const boxes = outs.map((o) => o.report.placement);
    const x0 = Math.min(...boxes.map((b) => b.x)) - 120;
    const x1 = Math.max(...boxes.map((b) => b.x + b.width)) + 120;
    let diff = 0;
    let n = 0;
    const { width, height } = imgs[0]!.info;
    for (let y = 0; y < height; y += 2) {
      for (let x = 0; x < width; x += 2) {
        if (x >= x0 && x < x1) continue;
        const o = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) { diff += Math.abs(imgs[0]!.data[o + c]! - imgs[1]!.data[o + c]!) + Math.abs(imgs[0]!.data[o + c]! - imgs[2]!.data[o + c]!); n += 2; }
      }
    }
    expect(diff / n).toBeLessThan(0.5);
  });
});
