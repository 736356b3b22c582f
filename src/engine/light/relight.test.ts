import { describe, expect, it } from 'vitest';
import { planScene } from '../../plan/index.js';
import { mask8, rgba8 } from '../raster/types.js';
import { relightProduct, shadingField } from './relight.js';

/** A white rounded product: an opaque ellipse on transparency. */
function whiteProduct(w: number, h: number): Buffer {
  const out = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = (x - w / 2) / (w * 0.45);
      const dy = (y - h / 2) / (h * 0.48);
      if (dx * dx + dy * dy > 1) continue;
      out.set([246, 246, 244, 255], (y * w + x) * 4);
    }
  }
  return out;
}

describe('relighting under a projected pattern', () => {
  it('patterns the light on a white product without greying it: lit patches stay white, shaded ones fall to the fill', () => {
    const w = 120;
    const h = 160;
    const rgba = whiteProduct(w, h);
    const light = planScene('on travertine, palm leaf shadows, golden hour sun from the right').light;
    // stripes of leaf shadow across the product
    const pattern = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pattern[y * w + x] = Math.floor(x / 10) % 2 === 0 ? 1 : 0;
    const plain = relightProduct(rgba8(rgba, w, h), { light, exposure: 0 });
    const patterned = relightProduct(rgba8(rgba, w, h), { light, exposure: 0, pattern });
    let litSame = 0;
    let lit = 0;
    let shadedRatio = 0;
    let shaded = 0;
    for (let y = 20; y < h - 20; y++) {
      for (let x = 20; x < w - 20; x++) {
        const i = (y * w + x) * 4;
        if (rgba[i + 3] !== 255) continue;
        if (pattern[y * w + x] === 1) {
          lit++;
          if (Math.abs(patterned[i]! - plain[i]!) <= 1) litSame++;
        } else {
          shaded++;
          shadedRatio += patterned[i]! / plain[i]!;
        }
      }
    }
    expect(litSame / lit).toBeGreaterThan(0.99);
    const ratio = shadedRatio / shaded;
    expect(ratio).toBeLessThan(0.95); // the leaves do fall on it
    expect(ratio).toBeGreaterThan(0.78); // but as shade from one light, not a grey product
  });

  it('models a turned product from its silhouette: a side key lights one flank, smoothly from row to row', () => {
    const w = 120;
    const h = 160;
    const rgba = whiteProduct(w, h);
    const alpha = Buffer.alloc(w * h);
    for (let i = 0; i < w * h; i++) alpha[i] = rgba[i * 4 + 3]!;
    const light = planScene('dramatic side lighting from the left').light;
    const { gain, gw, gh } = shadingField(mask8(alpha, w, h), { light, exposure: 0 });
    const at = (fx: number, fy: number) => gain[Math.round(fy * (gh - 1)) * gw + Math.round(fx * (gw - 1))]!;
    expect(at(0.25, 0.5)).toBeGreaterThan(at(0.5, 0.5));
    expect(at(0.5, 0.5)).toBeGreaterThan(at(0.75, 0.5) + 0.05);
    // no banding: neighbouring rows of the body agree
    let worst = 0;
    for (let y = Math.round(gh * 0.3); y < Math.round(gh * 0.7); y++) worst = Math.max(worst, Math.abs(gain[y * gw + (gw >> 1)]! - gain[(y + 1) * gw + (gw >> 1)]!));
    expect(worst).toBeLessThan(0.02);
  });

  it('reads each silhouette afresh: a product reshaped in the same buffer, or under another light, is shaded by its own form', () => {
    const w = 120;
    const h = 160;
    const rgba = whiteProduct(w, h);
    const alpha = Buffer.alloc(w * h);
    for (let i = 0; i < w * h; i++) alpha[i] = rgba[i * 4 + 3]!;
    const side = planScene('dramatic side lighting from the left').light;
    const front = planScene('soft frontal light').light;
    const ellipse = Float32Array.from(shadingField(mask8(alpha, w, h), { light: side, exposure: 0 }).gain);
    // another light on the same silhouette: its own shading, and the first light's again after it
    const other = shadingField(mask8(alpha, w, h), { light: front, exposure: 0 }).gain;
    expect(Buffer.from(other.buffer).equals(Buffer.from(ellipse.buffer))).toBe(false);
    expect(Buffer.from(shadingField(mask8(Buffer.from(alpha), w, h), { light: side, exposure: 0 }).gain.buffer).equals(Buffer.from(ellipse.buffer))).toBe(true);
    // the same buffer, now a narrow box on the right: no longer the ellipse's shading
    alpha.fill(0);
    for (let y = 10; y < h - 10; y++) for (let x = 80; x < 110; x++) alpha[y * w + x] = 255;
    const box = shadingField(mask8(alpha, w, h), { light: side, exposure: 0 }).gain;
    expect(Buffer.from(box.buffer).equals(Buffer.from(ellipse.buffer))).toBe(false);
  });

  it('keeps the product the lit subject of a night scene', () => {
    const w = 80;
    const h = 120;
    const rgba = whiteProduct(w, h);
    const plan = planScene('On a wet glossy dark stone ledge, city lights at night with bokeh, cinematic, cool rim light');
    expect(plan.grade.exposure).toBeLessThan(-0.5);
    const out = relightProduct(rgba8(rgba, w, h), { light: plan.light, exposure: plan.grade.exposure });
    const values: number[] = [];
    // its brightest channel: a cool rim light tints the white, it does not dim it
    for (let i = 0; i < w * h; i++) if (rgba[i * 4 + 3] === 255) values.push(Math.max(out[i * 4]!, out[i * 4 + 1]!, out[i * 4 + 2]!));
    values.sort((a, b) => a - b);
    expect(values[Math.floor(values.length * 0.9)]).toBeGreaterThan(235);
    expect(values[Math.floor(values.length / 2)]).toBeGreaterThan(200);
  });
});
