import type { Box, Raster8 } from './types.js';

/** A copy of the pixels inside `b`, which lies within the raster. */
export function crop<T extends Raster8>(img: T, b: Box): T {
  const c = img.channels;
  const out = Buffer.alloc(b.width * b.height * c);
  for (let row = 0; row < b.height; row++) {
    const start = ((b.y + row) * img.width + b.x) * c;
    img.data.copy(out, row * b.width * c, start, start + b.width * c);
  }
  return { ...img, data: out, width: b.width, height: b.height };
}

/** The raster upside down (rows in reverse order), as a new raster. */
export function flipRows<T extends Raster8>(img: T): T {
  const stride = img.width * img.channels;
  const out = Buffer.alloc(img.height * stride);
  for (let row = 0; row < img.height; row++) img.data.copy(out, (img.height - 1 - row) * stride, row * stride, (row + 1) * stride);
  return { ...img, data: out };
}

/** One channel as a mask (the alpha of RGBA is channel 3). */
export function channelOf(img: Raster8, channel: number): Raster8<1> {
  const n = img.width * img.height;
  const out = Buffer.alloc(n);
  for (let i = 0, o = channel; i < n; i++, o += img.channels) out[i] = img.data[o]!;
  return { data: out, width: img.width, height: img.height, channels: 1 };
}

/**
 * The pixels under `b`, which may reach past the raster: rows above or below it repeat its first or
 * last row, columns past its right edge stay zero.
 */
export function cropClamped<T extends Raster8>(img: T, b: Box): T {
  const { x, y, width: w, height: h } = b;
  const c = img.channels;
  const out = Buffer.alloc(w * h * c);
  for (let row = 0; row < h; row++) {
    const sy = Math.min(img.height - 1, Math.max(0, y + row));
    const start = (sy * img.width + Math.max(0, x)) * c;
    img.data.copy(out, row * w * c, start, start + Math.min(w, img.width - x) * c);
  }
  return { ...img, data: out, width: w, height: h };
}
