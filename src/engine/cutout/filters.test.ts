import { describe, expect, it } from 'vitest';
import { boxMean, dilateMask } from './filters.js';

/** The window mean by definition: every pixel of the clamped window summed afresh. */
function naiveBoxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, c = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) { s += src[yy * w + xx]!; c++; }
      }
      out[y * w + x] = s / c;
    }
  }
  return out;
}

describe('boxMean', () => {
  it('equals the clamped window mean for windows narrower and wider than the plane', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const [w, h, r] of [[1, 1, 0], [9, 4, 0], [9, 7, 2], [5, 6, 2], [5, 5, 3], [4, 11, 6], [31, 17, 4], [12, 30, 1]] as const) {
      const src = new Float32Array(w * h).map(() => (rnd() < 0.3 ? 0 : rnd() * 2 - 0.5));
      const got = boxMean(src, w, h, r);
      const want = naiveBoxMean(src, w, h, r);
      for (let i = 0; i < w * h; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    }
  });
});

describe('dilateMask', () => {
  it('sets exactly the pixels whose clamped window holds a set pixel', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const [w, h, r, p] of [[1, 1, 0, 0.5], [9, 4, 1, 0.05], [13, 9, 2, 0.03], [5, 9, 1, 0.05], [30, 20, 3, 0.01], [17, 23, 7, 0.004], [40, 3, 1, 0.3], [64, 20, 5, 0.02], [8, 40, 2, 0.03]] as const) {
      const m = new Uint8Array(w * h).map(() => (rnd() < p ? 1 : 0));
      m[(w * h) >> 1] = 1;
      // a run over the end of a row and on into the next (rows are widened apart), and a whole row
      if (w * h > 1) m.fill(1, Math.max(0, w - 2), Math.min(w * h, w + 2));
      if (h > 10) m.fill(1, 7 * w, 8 * w);
      const got = dilateMask(m, w, h, r);
      let set = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let any = 0;
          for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) any |= m[yy * w + xx]!;
          expect(got[y * w + x], `${w}x${h} r${r} at ${x},${y}`).toBe(any);
          set += any;
        }
      }
      // every case but the single pixel grows the mask and leaves some of it unset: the comparison can fail both ways
      if (w * h > 1) expect(set > m.reduce((a, v) => a + v, 0) && set < w * h, `${w}x${h} r${r}`).toBe(true);
    }
  });
});
