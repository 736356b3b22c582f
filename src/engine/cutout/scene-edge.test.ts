import { describe, expect, it } from 'vitest';
import { mask8, type Raster8 } from '../raster/types.js';
import { fitBackground } from './background.js';
import { boxMean } from './filters.js';
import { matteFromModel } from './matte.js';
import { scoreMatte } from './metrics.js';

/**
 * The edge in front of a scene, without the network: a red disc in front of a green wall of the same
 * brightness, the frame's border cluttered (so the backdrop fit calls it a scene, not a plain backdrop).
 * The "model" puts the edge 2 px too far out and soft, as IS-Net's upsampled edge can be. The grey guide
 * of the guided filter sees no edge there (equal luminance); the colours do.
 */

const W = 240, H = 240, CX = 120, CY = 120, R = 60;
const RED = [200, 90, 80] as const; // luminance 121.7
const GREEN = [70, 160, 60] as const; // luminance 121.6

function scene(): { image: Raster8; truth: Buffer; model: Float32Array } {
  const data = Buffer.alloc(W * H * 4);
  const truth = Buffer.alloc(W * H);
  // clutter along the frame: 6 px blocks of colours from a fixed sequence
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const blocks = Array.from({ length: (W / 6) * (H / 6) }, () => [rnd() * 255, rnd() * 255, rnd() * 255]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      // coverage of the disc, 4 x 4 samples per pixel
      let cov = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (Math.hypot(x + (sx + 0.5) / 4 - CX, y + (sy + 0.5) / 4 - CY) < R) cov++;
      const a = cov / 16;
      truth[i] = Math.round(a * 255);
      const frame = x < 24 || y < 24 || x >= W - 24 || y >= H - 24;
      const shade = 1 - (0.1 * y) / H; // a wall lit from above
      const bg = frame ? blocks[Math.floor(y / 6) * (W / 6) + Math.floor(x / 6)]! : GREEN.map((v) => v * shade);
      for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(a * RED[c]! + (1 - a) * bg[c]!);
      data[i * 4 + 3] = 255;
    }
  }
  // the network's answer: the disc 2 px too large, its edge 7 px soft
  const sharp = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) sharp[y * W + x] = Math.hypot(x + 0.5 - CX, y + 0.5 - CY) < R + 2 ? 1 : 0;
  return { image: { data, width: W, height: H, channels: 4 }, truth, model: boxMean(sharp, W, H, 3) };
}

describe('edges in front of a scene', () => {
  it('places the edge by colour where the grey guide cannot see it, the model confident answer still standing', () => {
    const { image, truth, model } = scene();
    const small: Raster8 = { data: Buffer.from(image.data), width: W, height: H, channels: 4 };
    expect(fitBackground(small).plain).toBe(false);
    const res = matteFromModel({ image, small, model, lap: () => {} });
    const ours = scoreMatte(mask8(res.alpha, W, H), mask8(truth, W, H));
    const modelOnly = Buffer.alloc(W * H);
    for (let i = 0; i < W * H; i++) modelOnly[i] = model[i]! >= 0.5 ? 255 : 0;
    const raw = scoreMatte(mask8(modelOnly, W, H), mask8(truth, W, H));
    // the model's own edge is 2 px out: IoU (60/62)^2, about 0.94
    expect(raw.iou).toBeLessThan(0.95);
    // the colour puts it back on the disc's rim (the grey guided filter alone leaves it where the model put it)
    expect(ours.iou).toBeGreaterThan(0.985);
    expect(ours.boundaryF).toBeGreaterThan(0.95);
    // nothing the model was sure of was overruled: sure product stays, sure background stays out
    expect(res.guard.removed).toBe(0);
    expect(res.guard.added).toBe(0);
  });
});
