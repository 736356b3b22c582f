import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderRaw, renderPackshot, type Product } from '../../../test/fixtures/packshot.js';
import { trueOpening } from '../../../test/fixtures/openings.js';
import { ScenePlanSchema } from '../../contract/scene.js';
import { planScene } from '../../plan/index.js';
import { decodeImage } from '../codec.js';
import { matteBox } from '../cutout/cache.js';
import { transform, type CutoutFn } from '../pipeline.js';
import { mask8 } from '../raster/types.js';
import type { TransformRequest } from '../types.js';
import { placeEffects, renderEffects, type ProductAtWork } from './effects.js';

/** A fixture product cut out to its box (its own pixels, the exact matte), as the studio holds it at the working size. */
function atWork(product: Product, size = 400, x = 300, y = 250): ProductAtWork {
  const { rgb, alpha } = renderRaw({ product, background: 'light-grey', width: size, height: size, seed: 5 });
  const b = matteBox(mask8(alpha, size, size));
  const rgba = Buffer.alloc(b.width * b.height * 4);
  for (let v = 0; v < b.height; v++) {
    for (let u = 0; u < b.width; u++) {
      const i = (b.y + v) * size + b.x + u, o = (v * b.width + u) * 4;
      rgba[o] = rgb[i * 3]!; rgba[o + 1] = rgb[i * 3 + 1]!; rgba[o + 2] = rgb[i * 3 + 2]!; rgba[o + 3] = alpha[i]!;
    }
  }
  return { rgba, x, y, w: b.width, h: b.height, boxes: [{ x: 0, y: 0, width: b.width, height: b.height }] };
}

const alphaOf = (p: ProductAtWork) => { const a = new Uint8Array(p.w * p.h); for (let i = 0; i < a.length; i++) a[i] = p.rgba[i * 4 + 3]!; return a; };

describe('placing steam and smoke for the product', () => {
  it('lets steam rise from a cup\'s rim, and says so in the plan', () => {
    const cup = atWork('cup');
    const plan = planScene('on a dark slate surface with rising steam');
    const { plan: drawn, vapour } = placeEffects(plan, cup, 'on a dark slate surface with rising steam');
    expect(drawn.effects.steam).toBe(plan.effects.steam);
    expect(vapour.behind).toBe(false);
    expect(vapour.sources).toHaveLength(1);
    const s = vapour.sources[0]!;
    // the rim's centre, at the working offset of the product's box
    const truth = trueOpening('cup', 400, 400)!;
    const { rgb: _rgb, alpha } = renderRaw({ product: 'cup', background: 'light-grey', width: 400, height: 400, seed: 5 });
    const b = matteBox(mask8(alpha, 400, 400));
    expect(Math.abs(s.x - (300 + truth.cx - b.x))).toBeLessThan(2);
    expect(Math.abs(s.y - (250 + truth.cy - b.y))).toBeLessThan(2);
    expect(s.halfWidth).toBeGreaterThan(truth.rx * 0.6);
    expect(s.halfWidth).toBeLessThan(truth.rx);
    expect(drawn.words.notes).toEqual([expect.stringMatching(/^steam: rises from the product's opening/)]);
  });

  it('drops steam where the product has no opening, and puts smoke behind it', () => {
    for (const product of ['chair', 'bottle', 'can'] as const) {
      const prompt = 'on slate with rising steam and smoke';
      const { plan: drawn, vapour } = placeEffects(planScene(prompt), atWork(product), prompt);
      expect(drawn.effects.steam, product).toBe(0);
      expect(drawn.effects.smoke, product).toBeGreaterThan(0);
      expect(vapour.behind).toBe(true);
      expect(drawn.words.notes).toEqual([
        expect.stringMatching(/^steam: dropped — the product has no opening/),
        expect.stringMatching(/^smoke: rises from behind the product/),
      ]);
    }
  });

  it('takes the prompt\'s noun for a top the pixels leave open, and never puts steam in boots', () => {
    const can = atWork('can');
    expect(placeEffects(planScene('with steam'), can, 'with steam').plan.effects.steam).toBe(0);
    expect(placeEffects(planScene('a cup of tea with steam'), can, 'a cup of tea with steam').plan.effects.steam).toBeGreaterThan(0);
    const boots = placeEffects(planScene('leather boots with steam'), atWork('cup'), 'leather boots with steam').plan;
    expect(boots.effects.steam).toBe(0);
    expect(boots.words.notes![0]).toContain('the product is a boot, not a vessel');
  });

  it('says its own notes on a reused parent plan, keeping the others', () => {
    const parent = planScene('with rising steam');
    parent.words.notes = ['steam: dropped — the product has no opening for it to rise from (…)', 'another note'];
    const notes = placeEffects(parent, atWork('cup'), 'with rising steam').plan.words.notes!;
    expect(notes).toEqual(['another note', expect.stringMatching(/^steam: rises from the product's opening/)]);
  });

  it('lets steam rise from the vessel of a group only, and reads no noun for a group', () => {
    const chair = atWork('chair', 400, 0, 0);
    const cup = atWork('cup', 400, 0, 0);
    const h = Math.max(chair.h, cup.h), gap = 20, w = chair.w + gap + cup.w;
    const rgba = Buffer.alloc(w * h * 4);
    for (let y = 0; y < chair.h; y++) chair.rgba.copy(rgba, ((h - chair.h + y) * w) * 4, y * chair.w * 4, (y + 1) * chair.w * 4);
    for (let y = 0; y < cup.h; y++) cup.rgba.copy(rgba, ((h - cup.h + y) * w + chair.w + gap) * 4, y * cup.w * 4, (y + 1) * cup.w * 4);
    const group: ProductAtWork = {
      rgba, x: 100, y: 50, w, h,
      boxes: [{ x: 0, y: h - chair.h, width: chair.w, height: chair.h }, { x: chair.w + gap, y: h - cup.h, width: cup.w, height: cup.h }],
    };
    // "boots" would drop the steam for one product; for a group it names none of them for sure
    const { plan, vapour } = placeEffects(planScene('boots and a cup with steam'), group, 'boots and a cup with steam');
    expect(plan.effects.steam).toBeGreaterThan(0);
    expect(vapour.sources).toHaveLength(1);
    expect(vapour.sources[0]!.x).toBeGreaterThan(100 + chair.w + gap);
  });

  it('reads nothing and changes nothing without steam or smoke', () => {
    const plan = planScene('on slate with mist');
    expect(placeEffects(plan, atWork('chair'), 'on slate with mist').plan).toBe(plan);
  });

  it('draws steam over the product only above the rim', async () => {
    const cup = atWork('cup');
    const prompt = 'on a dark slate surface with rising steam';
    const placed = placeEffects(planScene(prompt), cup, prompt);
    const W = 1000, H = 900;
    const layers = await renderEffects({
      plan: placed.plan, width: W, height: H, seed: 7, box: { x: cup.x, y: cup.y, w: cup.w, h: cup.h }, edgeY: 600,
      vapour: placed.vapour, productAlpha: alphaOf(cup),
    });
    const front = layers.front!;
    const rim = placed.vapour.sources[0]!.rim!;
    let above = 0;
    let below = 0;
    for (let y = 0; y < H; y++) {
      for (let x = cup.x; x < cup.x + cup.w; x++) {
        const a = front[(y * W + x) * 4 + 3]!;
        if (a < 8) continue;
        const inProduct = y >= cup.y && y < cup.y + cup.h && cup.rgba[((y - cup.y) * cup.w + x - cup.x) * 4 + 3]! > 200;
        if (y < rim.cy - rim.ry) above++;
        else if (inProduct && y > rim.cy + 1) below++;
      }
    }
    expect(above).toBeGreaterThan(500);
    expect(below).toBe(0);
  });
});

/** The studio end to end, the fixtures' exact mattes standing in for the segmentation model. */
describe('steam in a studio render', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-effects-'));
  const shots: Partial<Record<Product, { file: string; cutout: CutoutFn; alpha: Buffer }>> = {};
  const opts = { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 };
  const PROMPT = 'on a dark slate surface with rising steam';

  beforeAll(async () => {
    for (const product of ['cup', 'chair'] as const) {
      const shot = await renderPackshot({ product, background: 'light-grey', width: 360, height: 360, seed: 3 });
      const file = path.join(dir, `${product}.png`);
      writeFileSync(file, shot.png);
      const decoded = await decodeImage(shot.png, { maxPixels: 1e7 });
      const fg = Buffer.from(decoded.image.data);
      for (let i = 0; i < 360 * 360; i++) fg[i * 4 + 3] = shot.alpha[i]!;
      shots[product] = { file, alpha: shot.alpha, cutout: async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: 360, height: 360, channels: 4 }, cached: true }) };
    }
  });

  const run = (product: 'cup' | 'chair', over: Partial<TransformRequest> = {}) => transform(
    { tier: 'standard', prompt: PROMPT, sources: [shots[product]!.file], aspectRatio: '1:1', resolution: '1K', seed: 7, outputFormat: 'png', ...over },
    { opts, cutout: shots[product]!.cutout },
  );
  // the report's plan is the contract's: a notes list must pass its schema
  const planOf = (r: { report: { plan: unknown } }) => ScenePlanSchema.parse(r.report.plan);
  const pixels = async (png: Uint8Array) => (await decodeImage(Buffer.from(png), { maxPixels: 1e8 })).image;

  it('shows steam above the cup\'s rim and not over its body, the same bytes again for the same seed', async () => {
    const steam = await run('cup');
    const again = await run('cup');
    const none = await run('cup', { scene: { effects: { steam: 0 } } });
    expect(Buffer.from(steam.data).equals(Buffer.from(again.data))).toBe(true);
    const a = await pixels(steam.data);
    const b = await pixels(none.data);
    const p = steam.report.placement;
    // the rim in the frame, from the fixture's true rim and the crop the cutout made
    const crop = matteBox(mask8(shots.cup!.alpha, 360, 360));
    const truth = trueOpening('cup', 360, 360)!;
    const k = p.height / crop.height;
    const rimTop = p.y + (truth.cy - truth.ry - crop.y) * k;
    const rimMid = p.y + (truth.cy - crop.y) * k;
    const rimX0 = p.x + (truth.cx - truth.rx - crop.x) * k, rimX1 = p.x + (truth.cx + truth.rx - crop.x) * k;
    let brighter = 0;
    let bodyChanged = 0;
    let body = 0;
    for (let y = 0; y < a.height; y++) {
      for (let x = Math.floor(rimX0); x < Math.ceil(rimX1); x++) {
        const i = (y * a.width + x) * a.channels;
        const d = a.data[i]! + a.data[i + 1]! + a.data[i + 2]! - b.data[i]! - b.data[i + 1]! - b.data[i + 2]!;
        if (y < rimTop && d > 18) brighter++;
        // the cup's front wall, well below the rim's centre row and inside the product
        if (y > rimMid + 2 * k && y < p.y + p.height * 0.6) { body++; if (Math.abs(d) > 3) bodyChanged++; }
      }
    }
    expect(brighter).toBeGreaterThan(800);
    expect(body).toBeGreaterThan(1000);
    expect(bodyChanged).toBe(0);
    expect(planOf(steam).effects.steam).toBeGreaterThan(0);
    expect(planOf(steam).words.notes).toEqual([expect.stringMatching(/^steam: rises from the product's opening/)]);
  });

  it('draws no steam over a chair, and the report says it was dropped', async () => {
    const steam = await run('chair');
    const none = await run('chair', { scene: { effects: { steam: 0 } } });
    expect(Buffer.from(steam.data).equals(Buffer.from(none.data))).toBe(true);
    expect(planOf(steam).effects.steam).toBe(0);
    expect(planOf(steam).words.notes).toEqual([expect.stringMatching(/^steam: dropped — the product has no opening for it to rise from \(/)]);
    expect(planOf(none).words.notes).toBeUndefined();
  });
});
