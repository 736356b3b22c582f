import { describe, expect, it } from 'vitest';
import { renderRaw } from '../../../test/fixtures/index.js';
import { fitBackground } from './background.js';

function rgba(rgb: Buffer, w: number, h: number) {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) { data[i * 4] = rgb[i * 3]!; data[i * 4 + 1] = rgb[i * 3 + 1]!; data[i * 4 + 2] = rgb[i * 3 + 2]!; data[i * 4 + 3] = 255; }
  return { data, width: w, height: h, channels: 4 as const };
}

describe('fitBackground', () => {
  it('models a gradient sweep from the border well inside the frame', () => {
    const w = 300, h = 300;
    const spec = { product: 'mug' as const, background: 'sweep' as const, width: w, height: h, noise: 1 };
    const { rgb } = renderRaw(spec);
    const bg = fitBackground(rgba(rgb, w, h));
    expect(bg.plain).toBe(true);
    expect(bg.noise).toBeLessThan(4);
    // a background pixel away from the product and its shadow, in the upper third
    const out = new Float32Array(3);
    const x = 20, y = 60;
    bg.sample((x + 0.5) / w, (y + 0.5) / h, out);
    expect(Math.abs(out[0]! - rgb[(y * w + x) * 3]!)).toBeLessThan(4);
    const img = bg.render(w, h);
    expect(Math.abs(img[(y * w + x) * 3]! - out[0]!)).toBeLessThan(0.01);
  });

  it('reads the same backdrop from pixels() and grid() as from sample(), to the bit', () => {
    // a sweep at one size, read at other sizes (the full-resolution image is larger than the fit)
    const { rgb } = renderRaw({ product: 'mug', background: 'sweep', width: 240, height: 180, noise: 1 });
    const bg = fitBackground(rgba(rgb, 240, 180));
    const a = new Float32Array(3), b = new Float32Array(3);
    for (const [w, h] of [[240, 180], [1001, 757], [37, 513]] as const) {
      const px = bg.pixels(w, h);
      let differ = 0, spread = 0;
      for (let y = 0; y < h; y += 3) {
        for (let x = 0; x < w; x += 2) {
          bg.sample((x + 0.5) / w, (y + 0.5) / h, a);
          px.at(x, y, b);
          if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) differ++;
          spread = Math.max(spread, Math.abs(a[0]! - b[0]!), Math.abs(a[1]! - b[1]!));
        }
      }
      expect(differ, `${w}x${h}, largest gap ${spread}`).toBe(0);
    }
    // any grid of positions, the ends included (the refine step reads cell centres)
    const us = [0, 0.013, 0.25, 0.5004, 0.77, 1], vs = [0, 0.1, 0.333, 0.9, 1];
    const grid = bg.grid(us, vs);
    for (let j = 0; j < vs.length; j++) {
      for (let i = 0; i < us.length; i++) {
        bg.sample(us[i]!, vs[j]!, a);
        grid.at(i, j, b);
        expect([...b], `${us[i]}, ${vs[j]}`).toEqual([...a]);
      }
    }
  });

  it('calls a busy border not plain', () => {
    const w = 200, h = 200;
    const data = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      const x = i % w, y = Math.floor(i / w);
      const v = ((x >> 3) + (y >> 3)) % 2 ? 30 : 220;
      data[i * 4] = v; data[i * 4 + 1] = 255 - v; data[i * 4 + 2] = (x * 7) % 255; data[i * 4 + 3] = 255;
    }
    expect(fitBackground({ data, width: w, height: h, channels: 4 }).plain).toBe(false);
  });
});
