import { describe, expect, it } from 'vitest';
import { labelRegions, type Regions } from './regions.js';

/** The definition: a flood fill from each pixel not yet taken, in raster order, over its four neighbours. */
function floodRegions(mask: Uint8Array, value: 0 | 1, w: number, h: number): Regions {
  const label = new Int32Array(w * h).fill(-1);
  const counts: number[] = [], first: number[] = [], last: number[] = [], touches: boolean[] = [];
  for (let start = 0; start < w * h; start++) {
    if (mask[start] !== value || label[start] !== -1) continue;
    const id = counts.length;
    counts.push(0); first.push(start); last.push(start); touches.push(false);
    const stack = [start];
    label[start] = id;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w, y = Math.floor(i / w);
      counts[id]!++;
      last[id] = Math.max(last[id]!, i);
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1) touches[id] = true;
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        const j = ny * w + nx;
        if (nx >= 0 && ny >= 0 && nx < w && ny < h && mask[j] === value && label[j] === -1) { label[j] = id; stack.push(j); }
      }
    }
  }
  return { label, counts, first, last, touches };
}

describe('labelRegions', () => {
  it('numbers, sizes and bounds the 4-connected regions as a flood fill does, for either value', () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const [w, h, p] of [[1, 1, 0.5], [7, 1, 0.5], [1, 9, 0.5], [16, 12, 0.45], [31, 17, 0.6], [40, 40, 0.3], [64, 9, 0.5]] as const) {
      const mask = new Uint8Array(w * h).map(() => (rnd() < p ? 1 : 0));
      // shapes a scan meets in pieces: a U whose arms join only at the bottom, and a ring with a hole
      if (w >= 16 && h >= 12) {
        for (let y = 2; y < 10; y++) { mask[y * w + 3] = 1; mask[y * w + 9] = 1; mask[y * w + 6] = 0; }
        for (let x = 3; x <= 9; x++) mask[9 * w + x] = 1;
      }
      for (const value of [0, 1] as const) {
        const got = labelRegions(mask, value, w, h);
        const want = floodRegions(mask, value, w, h);
        expect(got, `${w}x${h} value ${value}`).toEqual(want);
        if (w * h > 9) expect(want.counts.length, `${w}x${h} value ${value}: several regions`).toBeGreaterThan(1);
      }
    }
  });
});
