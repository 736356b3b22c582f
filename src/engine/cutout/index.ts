import type { RawImage } from '../sharp.js';

/**
 * Interim cutout: a matte from the distance to the border colour. The full cutout (IS-Net fused with
 * a plain-background matte, edge refinement, decontamination, cache) replaces this module.
 */
export interface CutoutResult {
  /** single-channel alpha, width*height */
  alpha: Buffer;
  /** RGBA foreground with the background's colour removed from edge pixels */
  foreground: RawImage;
  cached: boolean;
  timings: Record<string, number>;
}

export async function cutoutImage(image: RawImage): Promise<CutoutResult> {
  const t0 = performance.now();
  const { data, width: w, height: h } = image;
  let r = 0, g = 0, b = 0, n = 0;
  const sample = (x: number, y: number) => {
    const i = (y * w + x) * 4;
    r += data[i]!; g += data[i + 1]!; b += data[i + 2]!; n++;
  };
  for (let x = 0; x < w; x++) { sample(x, 0); sample(x, h - 1); }
  for (let y = 0; y < h; y++) { sample(0, y); sample(w - 1, y); }
  r /= n; g /= n; b /= n;
  const alpha = Buffer.alloc(w * h);
  for (let p = 0, i = 0; p < w * h; p++, i += 4) {
    const d = Math.hypot(data[i]! - r, data[i + 1]! - g, data[i + 2]! - b);
    const a = Math.min(1, Math.max(0, (d - 12) / 30)) * (data[i + 3]! / 255);
    alpha[p] = Math.round(a * 255);
  }
  const fg = Buffer.from(data);
  for (let p = 0; p < w * h; p++) fg[p * 4 + 3] = alpha[p]!;
  return { alpha, foreground: { data: fg, width: w, height: h, channels: 4 }, cached: false, timings: { cutout: performance.now() - t0 } };
}
