import { describe, expect, it } from 'vitest';
import { renderRaw, type Background, type PackshotSpec, type Product } from '../../../test/fixtures/index.js';
import { renderOver } from '../../../test/fixtures/packshot.js';
import type { Raster8 } from '../raster/types.js';
import { fitBackground } from './background.js';
import { matteFromModel } from './matte.js';
import { clearGlass } from './transmission.js';

/**
 * Clear, untinted glass (the wine glass of test/fixtures/packshot.ts: it only darkens the backdrop, with a
 * dark rim where the wall is seen edge on, a white streak, a stem and a foot; its true alpha is one minus
 * its transmission). The "model" is what IS-Net gives such a glass: product, all of it, with p = 1 over
 * the bowl (it is at least 0.995 sure of it on a real packshot).
 */

function rgba(rgb: Buffer, w: number, h: number): Raster8 {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) { data[i * 4] = rgb[i * 3]!; data[i * 4 + 1] = rgb[i * 3 + 1]!; data[i * 4 + 2] = rgb[i * 3 + 2]!; data[i * 4 + 3] = 255; }
  return { data, width: w, height: h, channels: 4 };
}

function cut(image: Raster8, truth: Buffer): { alpha: Buffer; fg: Buffer } {
  const model = new Float32Array(truth.length);
  for (let i = 0; i < truth.length; i++) model[i] = truth[i]! > 0 ? 1 : 0;
  const res = matteFromModel({ image, small: image, model, lap: () => {} });
  return { alpha: res.alpha, fg: res.foreground.data };
}

/** The bowl's middle: rows through the upper bowl, columns well inside its walls (the builder's geometry). */
function bowl(spec: PackshotSpec): number[] {
  const { width: w, height: h } = spec;
  const s = Math.min(w, h), cx = w / 2, floor = h / 2 + 0.3 * s;
  const out: number[] = [];
  for (let y = Math.round(floor - 0.6 * s); y < Math.round(floor - 0.42 * s); y++) {
    for (let x = Math.round(cx - 0.09 * s); x < Math.round(cx + 0.09 * s); x++) out.push(y * w + x);
  }
  return out;
}

const DARK = [24, 30, 52];

/** Mean over the pixels of |our cut-out over DARK - the glass rendered over DARK| (8-bit levels), and the two means. */
function compositeError(spec: PackshotSpec, fg: Buffer, alpha: Buffer, idx: number[]): { err: number; ours: number; truthMean: number } {
  const { width: w, height: h } = spec;
  const dark = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) { dark[i * 3] = DARK[0]!; dark[i * 3 + 1] = DARK[1]!; dark[i * 3 + 2] = DARK[2]!; }
  const truth = renderOver(spec, dark).rgb;
  let err = 0, ours = 0, tm = 0;
  for (const i of idx) {
    const a = alpha[i]! / 255;
    for (let c = 0; c < 3; c++) {
      const o = fg[i * 4 + c]! * a + DARK[c]! * (1 - a);
      const t = truth[i * 3 + c]!;
      err += Math.abs(o - t); ours += o; tm += t;
    }
  }
  const n = idx.length * 3;
  return { err: err / n, ours: ours / n, truthMean: tm / n };
}

describe('clear glass', () => {
  it.each(['white', 'sweep'] as Background[])('gives a clear wine glass on %s the alpha of its transmission and shows a new background through the bowl', (background) => {
    const spec: PackshotSpec = { product: 'wine-glass', background, width: 400, height: 400 };
    const { rgb, alpha: truth } = renderRaw(spec);
    const image = rgba(rgb, 400, 400);
    const { alpha, fg } = cut(image, truth);
    const idx = bowl(spec);
    let tSum = 0, aSum = 0;
    for (const i of idx) { tSum += truth[i]!; aSum += alpha[i]!; }
    const tMean = tSum / idx.length, aMean = aSum / idx.length;
    // the bowl is clear: true alpha about 0.1-0.15
    expect(tMean).toBeGreaterThan(15);
    expect(tMean).toBeLessThan(60);
    // the model's answer (alpha 255 over the bowl) is about 220 levels off
    expect(Math.abs(aMean - tMean)).toBeLessThan(12);
    if (background === 'white') {
      // over a dark navy: the bowl shows the navy (about 35 levels), not a milky fill (about 220)
      const { err, ours, truthMean } = compositeError(spec, fg, alpha, idx);
      expect(truthMean).toBeLessThan(60);
      expect(ours).toBeLessThan(truthMean + 12);
      expect(err).toBeLessThan(10);
    }
  });

  it('gives the stem and the foot their own, denser alpha', () => {
    const spec: PackshotSpec = { product: 'wine-glass', background: 'white', width: 400, height: 400 };
    const { rgb, alpha: truth } = renderRaw(spec);
    const { alpha } = cut(rgba(rgb, 400, 400), truth);
    // the stem's middle: true alpha about 0.55
    const s = 400, floor = 200 + 0.3 * s;
    // medians across the part: the white streak down the stem (light added to a darkening) is one pixel
    // no single colour can place between the two
    const median = (v: number[]): number => v.sort((p, q) => p - q)[v.length >> 1]!;
    const row = (y: number, lo: number): { ours: number; truth: number } => {
      const t: number[] = [], a: number[] = [];
      for (let x = 0; x < 400; x++) { const i = y * 400 + x; if (truth[i]! > lo) { t.push(truth[i]!); a.push(alpha[i]!); } }
      expect(t.length).toBeGreaterThan(3);
      return { ours: median(a), truth: median(t) };
    };
    const stem = row(Math.round(floor - 0.15 * s), 100);
    expect(Math.abs(stem.ours - stem.truth), JSON.stringify(stem)).toBeLessThan(20);
    // the foot stands in its contact shadow, darker behind the foot than anywhere around it: the foot
    // comes out denser than it is (about 0.56 against 0.3) but no longer opaque
    const foot = row(Math.round(floor - 0.004 * s), 40);
    expect(foot.ours, JSON.stringify(foot)).toBeLessThan(170);
  });

  it('flags the clear glass on every backdrop and light, and no opaque product', () => {
    const products: Product[] = ['dripper', 'mug', 'cup', 'bottle', 'vase', 'can', 'box', 'white-vase', 'stem', 'glass', 'chair', 'wine-glass'];
    const flagged: string[] = [];
    for (const product of products) {
      for (const background of ['white', 'light-grey', 'sweep'] as Background[]) {
        for (const light of [-60, 30]) {
          const size = 320;
          const { rgb, alpha } = renderRaw({ product, background, width: size, height: size, light });
          const small = rgba(rgb, size, size);
          const prior = new Float32Array(alpha.length);
          for (let i = 0; i < alpha.length; i++) prior[i] = alpha[i]! > 0 ? 1 : 0;
          const bg = fitBackground(small);
          const res = clearGlass({ small, prior, bg, bgImg: bg.render(size, size) });
          if (res?.cues.some((c) => c.glass)) flagged.push(`${product} ${background} ${light}`);
        }
      }
    }
    expect(flagged).toEqual(['white', 'light-grey', 'sweep'].flatMap((b) => [`wine-glass ${b} -60`, `wine-glass ${b} 30`]));
  });

  it('leaves glass in front of a cluttered scene as the model has it', () => {
    // a plain white border (the backdrop fit calls the frame plain) around a busy middle: the backdrop
    // model does not explain what is behind the glass, so nothing says the bowl is see-through
    const w = 400, h = 400;
    const back = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * w + x) * 3;
        const inner = x > 40 && x < w - 40 && y > 40 && y < h - 40;
        const cell = (Math.floor(x / 23) * 7 + Math.floor(y / 17) * 13) % 5;
        const c = inner ? [[180, 60, 40], [40, 120, 60], [220, 200, 80], [60, 70, 160], [200, 200, 200]][cell]! : [250, 250, 249];
        back[p] = c[0]!; back[p + 1] = c[1]!; back[p + 2] = c[2]!;
      }
    }
    const spec: PackshotSpec = { product: 'wine-glass', background: 'white', width: w, height: h };
    const { rgb, alpha: truth } = renderOver(spec, back);
    const { alpha } = cut(rgba(rgb, w, h), truth);
    const idx = bowl(spec);
    let opaque = 0;
    for (const i of idx) if (alpha[i]! >= 250) opaque++;
    expect(opaque / idx.length).toBeGreaterThan(0.99);
  });
});
