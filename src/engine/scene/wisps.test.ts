import { describe, expect, it } from 'vitest';
import { renderWisps, type WispOptions } from './wisps.js';

const base: WispOptions = {
  width: 600, height: 600, seed: 7, box: { x: 200, y: 260, w: 200, h: 240 }, source: { x: 300, y: 280, halfWidth: 60 }, amount: 0.6, kind: 'steam',
  colour: [244, 246, 248], keySide: -1,
};

/** alpha of the layer's row at a share of its height from the top: its peak and how many pixels are visibly there */
function row(l: NonNullable<ReturnType<typeof renderWisps>>, share: number): { peak: number; covered: number } {
  const j = Math.min(l.fh - 1, Math.round(share * (l.fh - 1)));
  let peak = 0;
  let covered = 0;
  for (let i = 0; i < l.fw; i++) {
    const a = l.data[(j * l.fw + i) * 4 + 3]!;
    peak = Math.max(peak, a);
    if (a > 12) covered++;
  }
  return { peak, covered };
}

describe('steam and smoke wisps', () => {
  it('draws nothing without the effect', () => {
    expect(renderWisps({ ...base, amount: 0 })).toBeNull();
  });

  it('rises from the opening: dense and thin near it, wider and fading toward the top, always translucent', () => {
    const l = renderWisps(base)!;
    expect(l.y + l.h).toBeGreaterThan(base.box.y);
    expect(l.y).toBeLessThan(base.box.y - base.box.h * 0.5);
    expect(Math.abs(l.x + l.w / 2 - base.source.x)).toBeLessThan(base.box.w * 0.1);
    const near = row(l, 0.9);
    const mid = row(l, 0.55);
    const top = row(l, 0.02);
    expect(near.peak).toBeGreaterThan(mid.peak);
    expect(mid.peak).toBeGreaterThan(top.peak);
    expect(top.peak).toBeLessThan(30);
    expect(near.covered).toBeLessThan(mid.covered);
    let max = 0;
    for (let p = 3; p < l.data.length; p += 4) max = Math.max(max, l.data[p]!);
    expect(max).toBeLessThan(235);
  });

  it('steams across a wide opening: some vapour over its left and its right part, for every seed', () => {
    const wide = { ...base, box: { x: 100, y: 260, w: 400, h: 240 }, source: { x: 300, y: 280, halfWidth: 160 } };
    for (let seed = 1; seed <= 12; seed++) {
      const l = renderWisps({ ...wide, seed })!;
      // columns with visible vapour in the lower half of the rise, by their frame x
      let left = 0;
      let right = 0;
      for (let j = Math.floor(l.fh * 0.5); j < l.fh; j++) {
        for (let i = 0; i < l.fw; i++) {
          if (l.data[(j * l.fw + i) * 4 + 3]! < 25) continue;
          const x = l.x + ((i + 0.5) / l.fw) * l.w;
          if (x < 300 - 60) left++;
          if (x > 300 + 60) right++;
        }
      }
      expect(left, `seed ${seed}`).toBeGreaterThan(0);
      expect(right, `seed ${seed}`).toBeGreaterThan(0);
    }
  });

  it('is seeded: the same seed repeats, another seed moves the wisps', () => {
    const a = renderWisps(base)!;
    expect(renderWisps(base)!.data.equals(a.data)).toBe(true);
    expect(renderWisps({ ...base, seed: 8 })!.data.equals(a.data)).toBe(false);
  });

  it('lights the side of each wisp that faces the key', () => {
    const fromLeft = renderWisps(base)!;
    const fromRight = renderWisps({ ...base, keySide: 1 })!;
    const sideBrightness = (l: typeof fromLeft, left: boolean) => {
      let s = 0;
      let n = 0;
      for (let j = 0; j < l.fh; j++) {
        for (let i = 0; i < l.fw; i++) {
          const p = (j * l.fw + i) * 4;
          if (l.data[p + 3]! < 40 || (i < l.fw / 2) !== left) continue;
          s += l.data[p]!;
          n++;
        }
      }
      return s / Math.max(1, n);
    };
    expect(sideBrightness(fromLeft, true) - sideBrightness(fromLeft, false)).toBeGreaterThan(sideBrightness(fromRight, true) - sideBrightness(fromRight, false));
  });
});
