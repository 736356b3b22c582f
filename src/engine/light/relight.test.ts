import { describe, expect, it } from 'vitest';
import { planScene } from '../plan/index.js';
import { relightProduct } from './relight.js';

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
    const plain = relightProduct(rgba, w, h, { light, exposure: 0 });
    const patterned = relightProduct(rgba, w, h, { light, exposure: 0, pattern });
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
});
