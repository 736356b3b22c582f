import { describe, expect, it } from 'vitest';
import { mask8 } from '../raster/types.js';
import { scoreMatte } from './metrics.js';

function disc(w: number, h: number, cx: number, cy: number, r: number): Buffer {
  const m = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m[y * w + x] = Math.hypot(x - cx, y - cy) <= r ? 255 : 0;
  return m;
}

describe('scoreMatte', () => {
  it('is perfect for identical mattes', () => {
    const m = disc(100, 80, 50, 40, 20);
    expect(scoreMatte(mask8(m, 100, 80), mask8(m, 100, 80))).toEqual({ iou: 1, boundaryF: 1, mae: 0, maeProduct: 0 });
  });

  it('measures alpha error over the product as well as over the frame', () => {
    // a 20x20 "glass" of alpha 153 (0.6) in a 100x100 frame, predicted fully opaque
    const truth = Buffer.alloc(100 * 100), pred = Buffer.alloc(100 * 100);
    for (let y = 40; y < 60; y++) for (let x = 40; x < 60; x++) { truth[y * 100 + x] = 153; pred[y * 100 + x] = 255; }
    const s = scoreMatte(mask8(pred, 100, 100), mask8(truth, 100, 100));
    expect(s.maeProduct).toBeCloseTo(0.4, 5);
    expect(s.mae).toBeCloseTo(0.4 * 0.04, 5);
  });

  it('scores a shifted disc: IoU drops, boundary F holds within the tolerance and fails beyond it', () => {
    const a = disc(200, 200, 100, 100, 50);
    const near = scoreMatte(mask8(disc(200, 200, 102, 100, 50), 200, 200), mask8(a, 200, 200));
    expect(near.iou).toBeLessThan(0.98);
    expect(near.iou).toBeGreaterThan(0.9);
    expect(near.boundaryF).toBeGreaterThan(0.95);
    const far = scoreMatte(mask8(disc(200, 200, 110, 100, 50), 200, 200), mask8(a, 200, 200));
    expect(far.boundaryF).toBeLessThan(0.5);
    expect(far.mae).toBeGreaterThan(near.mae);
  });

  it('rejects mattes of the wrong size', () => {
    expect(() => scoreMatte(mask8(Buffer.alloc(10), 3, 4), mask8(Buffer.alloc(12), 3, 4))).toThrow(/Expected two 3x4 mattes/);
  });
});
