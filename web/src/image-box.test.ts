import { describe, expect, it } from 'vitest';
import { estimateUpscale, productBox, readPlacement, sourceRect } from './image-box.js';

/** An RGBA image of one colour with a rectangle of another. */
function image(w: number, h: number, bg: number[], rect?: { x: number; y: number; width: number; height: number; rgba: number[] }) {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = rect && x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
      data.set(inside ? rect.rgba : bg, (y * w + x) * 4);
    }
  }
  return data;
}

describe('productBox', () => {
  it('finds the product against a plain backdrop, ignoring small noise', () => {
    const data = image(40, 30, [240, 240, 238, 255], { x: 10, y: 5, width: 12, height: 20, rgba: [60, 40, 30, 255] });
    data.set([250, 246, 240, 255], (2 * 40 + 2) * 4);
    expect(productBox(data, 40, 30)).toEqual({ x: 10, y: 5, width: 12, height: 20 });
  });

  it('uses the alpha channel of a cutout', () => {
    const data = image(20, 20, [0, 0, 0, 0], { x: 3, y: 4, width: 5, height: 6, rgba: [255, 255, 255, 255] });
    expect(productBox(data, 20, 20)).toEqual({ x: 3, y: 4, width: 5, height: 6 });
  });

  it('is null for an image that is all backdrop', () => {
    expect(productBox(image(10, 10, [255, 255, 255, 255]), 10, 10)).toBeNull();
  });
});

describe('lining up the source with the result', () => {
  const placement = { x: 400, y: 300, width: 200, height: 400, scale: 2, upscale: 2 };

  it('scales the source by the placement scale and centres its product on the placed box', () => {
    const r = sourceRect({ width: 300, height: 300, box: { x: 100, y: 50, width: 100, height: 200 } }, placement);
    // the product's box (100,50 100×200) lands exactly on the placement (400,300 200×400)
    expect(r.x + 100 * 2).toBe(400);
    expect(r.y + 50 * 2).toBe(300);
    expect([r.width, r.height]).toEqual([600, 600]);
  });

  it('fits the whole source into the placed box when its product could not be measured', () => {
    expect(sourceRect({ width: 100, height: 100, box: null }, placement)).toEqual({ x: 400, y: 400, width: 200, height: 200 });
  });

  it('reads reshoot.placement, and refuses anything else', () => {
    expect(readPlacement(placement)).toEqual(placement);
    expect(readPlacement({ ...placement, upscale: undefined })?.upscale).toBe(1);
    expect(readPlacement(null)).toBeNull();
    expect(readPlacement({ x: 1, y: 2, width: 0, height: 4, scale: 1 })).toBeNull();
    expect(readPlacement({ x: '1', y: 2, width: 3, height: 4, scale: 1 })).toBeNull();
  });
});

describe('estimateUpscale', () => {
  it('is the framing height over the product height, or the width limit for a wide product', () => {
    expect(estimateUpscale({ x: 0, y: 0, width: 100, height: 200 }, 0.5, { width: 1024, height: 1024 })).toBeCloseTo(2.56, 2);
    // 400 px wide at 2.56× would be wider than 90 % of the frame: held to it
    expect(estimateUpscale({ x: 0, y: 0, width: 800, height: 200 }, 0.5, { width: 1024, height: 1024 })).toBeCloseTo((1024 * 0.9) / 800, 3);
  });
});
