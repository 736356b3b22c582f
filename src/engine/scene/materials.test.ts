import { describe, expect, it } from 'vitest';
import type { ScenePlan } from '../../contract/scene.js';
import { planScene } from '../../plan/index.js';
import { MATERIAL_DETAIL } from '../../plan/presets.js';
import { computeLayout } from '../compose/framing.js';
import { srgbToLinearLut } from '../raster/color.js';
import type { Rgb8 } from '../raster/types.js';
import { environmentLook, prepareEnvironment } from './environment.js';
import { createRelief, loadNormalMap, roughnessOf } from './normals.js';
import { buildChain, fresnel } from './reflection.js';
import { renderScene } from './render.js';

/**
 * Materials: the surface's relief from the CC0 normal maps, lit by the key and
 * the fill; its gloss mirroring the place around it through a prefiltered environment, by Fresnel.
 * Scenes are rendered with renderScene on a real layout and an empty (transparent) product, so
 * every pixel measured is the set's own.
 */

const lin = srgbToLinearLut();
const luma = (img: Rgb8, x: number, y: number) => {
  const i = (y * img.width + x) * 3;
  return 0.2126 * lin[img.data[i]!]! + 0.7152 * lin[img.data[i + 1]!]! + 0.0722 * lin[img.data[i + 2]!]!;
};

async function render(plan: ScenePlan, seed = 5): Promise<{ img: Rgb8; edgeY: number; vanishY: number }> {
  const layout = computeLayout(plan, '1:1', '1K', { width: 600, height: 600 }, { x: 250, y: 150, width: 100, height: 300 });
  const ws = layout.work.scale;
  const W = layout.work.width;
  const H = layout.work.height;
  const pw = Math.round(layout.product.width * ws);
  const ph = Math.round(layout.product.height * ws);
  const base = plan.backdrop.kind === 'environment' ? environmentLook(plan, seed) : null;
  const env = base && (await prepareEnvironment(base.hdri));
  const look = env ? environmentLook(plan, seed, env.light) : null;
  const img = await renderScene({
    plan, layout, seed,
    product: { rgba: Buffer.alloc(pw * ph * 4), x: Math.round(layout.product.x * ws), y: Math.round(layout.product.y * ws), w: pw, h: ph },
    shadows: { cast: null, contact: null, occlusion: null },
    pattern: null,
    behind: null,
    photo: look ? { look, quality: 'fast' } : null,
  });
  expect([img.width, img.height]).toEqual([W, H]);
  return { img, edgeY: layout.camera.edgeY * ws, vanishY: layout.camera.vanishY * ws };
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < n; i++) { ab += (a[i]! - ma) * (b[i]! - mb); aa += (a[i]! - ma) ** 2; bb += (b[i]! - mb) ** 2; }
  return ab / Math.sqrt(aa * bb || 1);
}

/** Mean luma per column over rows [y0, y1). */
const profile = (img: Rgb8, y0: number, y1: number) => Array.from({ length: img.width }, (_, x) => {
  let s = 0;
  for (let y = y0; y < y1; y++) s += luma(img, x, y);
  return s / (y1 - y0);
});

/** A profile less its 61-column moving mean: the structure across, not the light's broad falloff. */
const detail = (p: number[]) => p.map((v, i) => {
  let s = 0, n = 0;
  for (let k = Math.max(0, i - 30); k <= Math.min(p.length - 1, i + 30); k++) { s += p[k]!; n++; }
  return v - s / n;
});

describe('reflections of the environment', () => {
  // the same black marble slab in the same hotel lobby, polished and honed: across the slab's far band (a
  // grazing view, where Fresnel reflects most), the polished one repeats the lobby's lamps and walls
  // above the horizon (their mirror image); the honed one shows its own colour only
  const lobby = (finish: 'glossy' | 'matte') =>
    planScene('on black marble in a hotel lobby', {
      scene: { surface: { material: 'marble', tone: 'dark', finish, gloss: finish === 'glossy' ? 0.6 : 0.04 }, framing: { camera: 'low' } },
    });

  it('a glossy surface mirrors the lobby around it; a matte one does not', async () => {
    const glossy = await render(lobby('glossy'));
    const matte = await render(lobby('matte'));
    const { edgeY, vanishY } = glossy;
    const band = Math.round((edgeY - vanishY) * 0.35);
    const y0 = Math.ceil(edgeY) + 12;
    // the room seen just above the horizon, and its mirror image below the edge
    const sky = profile(glossy.img, Math.round(vanishY - (y0 + band - vanishY)), Math.round(vanishY - (y0 - vanishY)));
    const rg = correlation(detail(profile(glossy.img, y0, y0 + band)), detail(sky));
    const rm = correlation(detail(profile(matte.img, y0, y0 + band)), detail(sky));
    expect(rg).toBeGreaterThan(0.7);
    expect(rm).toBeLessThan(0.3);
    // and the polished slab is brighter there than the honed one: it adds the room's light
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean(profile(glossy.img, y0, y0 + band))).toBeGreaterThan(mean(profile(matte.img, y0, y0 + band)) * 1.2);
  }, 60_000);

  it('renders the same bytes for the same seed', async () => {
    const a = await render(lobby('glossy'), 9);
    const b = await render(lobby('glossy'), 9);
    expect(a.img.data.equals(b.img.data)).toBe(true);
  }, 60_000);

  it('reflects more at grazing angles, and a rough surface never much', () => {
    expect(fresnel(1, 0.04, 0.1)).toBeCloseTo(0.04, 3);
    expect(fresnel(0.1, 0.04, 0.1)).toBeGreaterThan(0.5);
    expect(fresnel(0.1, 0.04, 0.95)).toBeLessThan(0.06);
    const cos = [1, 0.8, 0.5, 0.3, 0.1, 0];
    const f = cos.map((c) => fresnel(c, 0.04, 0.2));
    for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThan(f[i - 1]!);
  });

  it('prefilters a map into ever blurrier levels that keep its light', async () => {
    const env = await prepareEnvironment('lobby');
    const chain = buildChain(env.hdr);
    const mean = (d: Float32Array) => d.reduce((s, v) => s + v, 0) / d.length;
    const top = mean(chain[0]!.data);
    // the spread of its values falls level by level (the lobe widens); the mean light stays
    let last = Infinity;
    for (const level of chain) {
      const m = mean(level.data);
      expect(m).toBeCloseTo(top, 1);
      const spread = level.data.reduce((s, v) => s + (v - m) ** 2, 0) / level.data.length;
      expect(spread).toBeLessThan(last);
      last = spread;
    }
    expect(chain[chain.length - 1]!.width).toBe(8);
  });
});

describe('a floor in a photographed place', () => {
  // the same concrete in the same workshop, called a table and a floor: the table ends at its far
  // edge (a step in brightness between the rows just in front of it and the room just behind it);
  // the floor runs on past that depth and fades into the photograph's own floor, with no step
  const workshop = (noun: 'table' | 'floor') => planScene(`on a concrete ${noun} in a workshop`);

  it('has no far edge: the surface runs on toward the horizon and fades into the photograph', async () => {
    const table = await render(workshop('table'));
    const floor = await render(workshop('floor'));
    const { edgeY, vanishY } = table;
    const step = (img: Rgb8) => {
      const a = profile(img, Math.round(edgeY) - 9, Math.round(edgeY) - 3);
      const b = profile(img, Math.round(edgeY) + 3, Math.round(edgeY) + 9);
      return a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length / (b.reduce((s, v) => s + v, 0) / b.length);
    };
    // the floor's rows across the table's edge change by less than half as much as the table's
    expect(step(floor.img)).toBeLessThan(step(table.img) * 0.5);
    // above the table's edge, between it and the horizon, the floor render is ground, not room: its
    // rows there are as plain as the surface in front (the room behind has doors, shelves, lamps)
    const mid = Math.round((edgeY + vanishY) / 2);
    const spread = (img: Rgb8, y: number) => {
      const p = profile(img, y - 2, y + 2);
      const m = p.reduce((s, v) => s + v, 0) / p.length;
      return Math.sqrt(p.reduce((s, v) => s + (v - m) ** 2, 0) / p.length) / m;
    };
    expect(spread(floor.img, mid)).toBeLessThan(spread(table.img, mid));
  }, 60_000);
});

describe('micro-normals', () => {
  /** luma minus its 9×9 box mean: the surface's fine shading, over the rows in front of the product */
  function highPass(img: Rgb8, y0: number, y1: number): number[] {
    const out: number[] = [];
    for (let y = y0; y < y1; y += 2) {
      for (let x = 8; x < img.width - 8; x += 2) {
        let s = 0;
        for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) s += luma(img, x + dx, y + dy);
        out.push(luma(img, x, y) - s / 81);
      }
    }
    return out;
  }
  const slate = (from: 'left' | 'right') =>
    planScene('on a slate slab', { scene: { surface: { material: 'slate' }, light: { from, azimuth: from === 'left' ? -90 : 90, elevation: 25 }, backdrop: { kind: 'solid', blur: 0 } } });

  it('gives the surface fine shading that turns with the light: flip the key’s side and the pattern flips', async () => {
    const left = await render(slate('left'));
    const right = await render(slate('right'));
    const H = left.img.height;
    const y0 = Math.round(left.edgeY + (H - left.edgeY) * 0.45);
    const y1 = Math.round(left.edgeY + (H - left.edgeY) * 0.65);
    const a = highPass(left.img, y0, y1);
    const b = highPass(right.img, y0, y1);
    // the albedo's own texture is the same under both lights (correlation near 1 without relief);
    // the relief's light and shade swap sides, so the two patterns no longer agree
    expect(correlation(a, b)).toBeLessThan(0.3);
    const energy = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const mean = a.length > 0 ? (() => { let s = 0; for (let y = y0; y < y1; y++) s += luma(left.img, left.img.width >> 1, y); return s / (y1 - y0); })() : 1;
    // visible: at least 2% of the surface's brightness, pixel to pixel
    expect(energy / mean).toBeGreaterThan(0.02);
  }, 60_000);

  it('decodes every preset’s map into a seamless level chain with no lean', async () => {
    for (const d of Object.values(MATERIAL_DETAIL)) {
      if (!d.normal) continue;
      const map = await loadNormalMap(d.normal);
      expect(map.levels[0]!.size).toBe(512);
      expect(map.levels[map.levels.length - 1]!.size).toBe(1);
      // it wraps without a seam: across each edge, tilts differ no more than between neighbours inside
      const { data: t, size } = map.levels[0]!;
      let seam = 0, inner = 0;
      for (let k = 0; k < size; k++) {
        for (const c of [0, 1]) {
          seam += Math.abs(t[(k * size + size - 1) * 2 + c]! - t[(k * size) * 2 + c]!) + Math.abs(t[((size - 1) * size + k) * 2 + c]! - t[k * 2 + c]!);
          inner += Math.abs(t[(k * size + size / 2 - 1) * 2 + c]! - t[(k * size + size / 2) * 2 + c]!) + Math.abs(t[((size / 2 - 1) * size + k) * 2 + c]! - t[((size / 2) * size + k) * 2 + c]!);
        }
      }
      expect(seam / inner).toBeLessThan(1.5);
      const lastLevel = map.levels[map.levels.length - 1]!.data;
      expect(Math.abs(lastLevel[0]!)).toBeLessThan(1e-3);
      expect(Math.abs(lastLevel[1]!)).toBeLessThan(1e-3);
    }
    await expect(loadNormalMap('../x')).rejects.toThrow(/four digits/);
  });

  it('flattens relief finer than a pixel; a mirror has none', async () => {
    const relief = (await createRelief(planScene('on slate').surface))!;
    const t = new Float32Array(2);
    const spread = (fp: number) => {
      let s = 0;
      relief.row(fp);
      for (let i = 0; i < 200; i++) { relief.at(i * 0.0137, i * 0.0291, t); s += t[0]! * t[0]! + t[1]! * t[1]!; }
      return s / 200;
    };
    expect(spread(0.5)).toBeLessThan(spread(0.001) * 0.2);
    expect(await createRelief(planScene('on a mirror', { scene: { surface: { material: 'mirror' } } }).surface)).toBeNull();
  });

  it('roughens a material as a finish word lowers its gloss', () => {
    const marble = planScene('on marble').surface;
    expect(roughnessOf({ ...marble, gloss: 0.04 })).toBeGreaterThan(roughnessOf(marble) + 0.3);
    expect(roughnessOf({ ...marble, gloss: 0.95 })).toBeLessThan(roughnessOf(marble));
  });
});
