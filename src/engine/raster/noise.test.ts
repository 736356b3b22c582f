import { describe, expect, it } from 'vitest';
import { fbmField, sample } from './noise.js';

describe('noise fields', () => {
  it('wraps samples around the tile for negative and far coordinates', () => {
    const f = fbmField(3, 1, 16, 2, 3);
    for (const [u, v] of [[2.25, 5.5], [-13.75, 7.5], [2.25 + 16 * 1000, 5.5 - 16 * 7], [-0.5, -0.25]] as const) {
      const uw = ((u % 16) + 16) % 16;
      const vw = ((v % 16) + 16) % 16;
      expect(sample(f, u, v)).toBeCloseTo(sample(f, uw, vw), 6);
    }
    // between two texels the sample is their blend, across the seam as well
    const d = f.data;
    expect(sample(f, 15.5, 0)).toBeCloseTo((d[15]! + d[0]!) / 2, 6);
    expect(sample(f, -0.5, 0)).toBeCloseTo((d[15]! + d[0]!) / 2, 6);
  });

  it('is a pure function of its arguments and rejects sizes that do not tile', () => {
    expect(fbmField(9, 2, 32, 4, 3).data).toEqual(fbmField(9, 2, 32, 4, 3).data);
    expect(fbmField(9, 2, 32, 4, 3).data).not.toEqual(fbmField(10, 2, 32, 4, 3).data);
    expect(() => fbmField(9, 2, 100)).toThrow(RangeError);
  });

  it('hands back the field it built for the same arguments, and rebuilds the same field once the bounded cache let it go', () => {
    const first = fbmField(5, 3, 256, 4, 5);
    const copy = Float32Array.from(first.data);
    expect(fbmField(5, 3, 256, 4, 5)).toBe(first);
    expect(fbmField(5, 3, 256, 4, 6)).not.toBe(first);
    // 80 other 256² fields (20 MB) push it out of the 16 MB cache
    for (let salt = 100; salt < 180; salt++) fbmField(5, salt, 256, 4, 1);
    const again = fbmField(5, 3, 256, 4, 5);
    expect(again).not.toBe(first);
    expect(again.data).toEqual(copy);
  });
});
