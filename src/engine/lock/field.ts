import type { Box, Raster8 } from '../raster/types.js';

/**
 * Float fields for the lock: luma, halving, gradient magnitude and box blurs, all on plain
 * Float32Arrays with their size (the lock works on a region of the frame, never the whole of it).
 */
export interface Plane { data: Float32Array; width: number; height: number }

/** Rec. 709 luma of an 8-bit RGB(A) raster's region, 0..1 (gamma-encoded: edges as the eye sees them). */
export function lumaOf(img: Raster8, region: Box): Plane {
  const { width: w, height: h } = region;
  const out = new Float32Array(w * h);
  const ch = img.channels;
  for (let y = 0; y < h; y++) {
    let o = ((region.y + y) * img.width + region.x) * ch;
    for (let x = 0; x < w; x++, o += ch) {
      out[y * w + x] = (0.2126 * img.data[o]! + 0.7152 * img.data[o + 1]! + 0.0722 * img.data[o + 2]!) / 255;
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * Rec. 709 luma (0..1) of an 8-bit raster's region at 1/f of its size: each output pixel the mean
 * of its f×f block (of an even grid of at most 8×8 of the block's pixels where f > 8: enough for a
 * level whose gradients are only ever read smoothed). Blocks are counted from the region's corner;
 * a partial last row or column is dropped.
 */
export function lumaAt(img: Raster8, region: Box, f: number): Plane {
  const w = Math.max(1, Math.floor(region.width / f)), h = Math.max(1, Math.floor(region.height / f));
  const out = new Float32Array(w * h);
  const ch = img.channels, iw = img.width;
  const k = Math.min(f, 8), step = f / k;
  // the sampled rows and columns of a block (all of them up to 8), the columns as byte offsets
  const rows = new Int32Array(k), offs = new Int32Array(k);
  for (let j = 0; j < k; j++) { rows[j] = Math.floor(j * step + (step - 1) / 2); offs[j] = rows[j]! * ch; }
  const norm = 1 / (255 * k * k);
  // each block's sum in doubles, its sampled rows added in order, each row's samples in order
  const acc = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let j = 0; j < k; j++) lumaRowSums(img.data, ((region.y + y * f + rows[j]!) * iw + region.x) * ch, f * ch, offs, w, acc);
    for (let x = 0, o = y * w; x < w; x++, o++) out[o] = acc[x]! * norm;
  }
  return { data: out, width: w, height: h };
}

/** Adds to acc[x] the luma (0..255) of the samples `offs` (byte offsets) of block x of the frame row starting at byte `start`, blocks `blockBytes` apart. */
function lumaRowSums(d: Uint8Array, start: number, blockBytes: number, offs: Int32Array, w: number, acc: Float64Array): void {
  const k = offs.length;
  for (let x = 0, b = start; x < w; x++, b += blockBytes) {
    let sum = acc[x]!;
    for (let i = 0; i < k; i++) {
      const o = b + offs[i]!;
      sum += 0.2126 * d[o]! + 0.7152 * d[o + 1]! + 0.0722 * d[o + 2]!;
    }
    acc[x] = sum;
  }
}

/** Half size by 2×2 averages (an odd last row or column is dropped). */
export function halve(p: Plane): Plane {
  const w = Math.max(1, p.width >> 1), h = Math.max(1, p.height >> 1);
  const out = new Float32Array(w * h);
  const s = p.data, sw = p.width;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * sw, r1 = Math.min(2 * y + 1, p.height - 1) * sw;
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x, x1 = Math.min(2 * x + 1, sw - 1);
      out[y * w + x] = (s[r0 + x0]! + s[r0 + x1]! + s[r1 + x0]! + s[r1 + x1]!) * 0.25;
    }
  }
  return { data: out, width: w, height: h };
}

/** Gradient magnitude: a [1 2 1] smoothing, then Sobel. Border pixels are 0. */
export function gradientMagnitude(p: Plane): Plane {
  const { width: w, height: h } = p;
  const s = p.data;
  const out = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const tl = s[i - w - 1]!, tc = s[i - w]!, tr = s[i - w + 1]!;
      const ml = s[i - 1]!, mr = s[i + 1]!;
      const bl = s[i + w - 1]!, bc = s[i + w]!, br = s[i + w + 1]!;
      const gx = tr + 2 * mr + br - tl - 2 * ml - bl;
      const gy = bl + 2 * bc + br - tl - 2 * tc - tr;
      out[i] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return { data: out, width: w, height: h };
}

/** One box blur pass of radius r along rows then columns, `channels` interleaved, edges clamped: src into out (tmp the rows' pass). */
function boxPass(src: Float32Array, out: Float32Array, tmp: Float32Array, w: number, h: number, ch: number, r: number): void {
  const n = 2 * r + 1;
  for (let y = 0; y < h; y++) for (let c = 0; c < ch; c++) boxRow(src, tmp, y * w * ch + c, w, ch, r, n);
  // columns, row by row (a running sum per column keeps the reads in row order)
  const row = w * ch;
  const sums = new Float64Array(row);
  for (let k = -r; k <= r; k++) {
    const o = Math.min(h - 1, Math.max(0, k)) * row;
    for (let j = 0; j < row; j++) sums[j]! += tmp[o + j]!;
  }
  for (let y = 0; y < h; y++) {
    const o = y * row;
    for (let j = 0; j < row; j++) out[o + j] = sums[j]! / n;
    const add = Math.min(h - 1, y + r + 1) * row, sub = Math.max(0, y - r) * row;
    for (let j = 0; j < row; j++) sums[j]! += tmp[add + j]! - tmp[sub + j]!;
  }
}

/** One row's box blur (radius r, n = 2r + 1 taps) of one channel starting at `base`, `ch` apart, edges clamped, src into dst. */
function boxRow(src: Float32Array, dst: Float32Array, base: number, w: number, ch: number, r: number, n: number): void {
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += src[base + Math.min(w - 1, Math.max(0, k)) * ch]!;
  let x = 0;
  // the clamps bite only within r of the row's ends
  for (const end = Math.min(w, r); x < end; x++) {
    dst[base + x * ch] = sum / n;
    sum += src[base + Math.min(w - 1, x + r + 1) * ch]! - src[base + Math.max(0, x - r) * ch]!;
  }
  for (const end = w - r - 1; x < end; x++) {
    dst[base + x * ch] = sum / n;
    sum += src[base + (x + r + 1) * ch]! - src[base + (x - r) * ch]!;
  }
  for (; x < w; x++) {
    dst[base + x * ch] = sum / n;
    sum += src[base + Math.min(w - 1, x + r + 1) * ch]! - src[base + Math.max(0, x - r) * ch]!;
  }
}

/** About a gaussian of standard deviation `sigma` (three box passes), `channels` interleaved. */
export function blurField(src: Float32Array, w: number, h: number, ch: number, sigma: number): Float32Array {
  if (sigma < 0.5) return src;
  // three boxes of radius r have variance 3·((2r+1)² − 1)/12 = r(r+1)
  const r = Math.max(1, Math.round(Math.sqrt(sigma * sigma + 0.25) - 0.5));
  const a = new Float32Array(src.length), b = new Float32Array(src.length), tmp = new Float32Array(src.length);
  boxPass(src, a, tmp, w, h, ch, r);
  boxPass(a, b, tmp, w, h, ch, r);
  boxPass(b, a, tmp, w, h, ch, r);
  return a;
}

/** A blurred field kept shrunk by `k` (see smallBlur); read it with readSmall. */
export interface SmallField { data: Float32Array; width: number; height: number; ch: number; k: number }

/**
 * About a gaussian blur of standard deviation `sigma` (blurField) of a w×h field, worked out on a
 * copy shrunk by block means so that the blur there is about two pixels wide: for wide blurs of
 * smooth fields, where the shrunk copy loses nothing visible. Read it back with readSmall.
 * `width` sets how wide the blur is kept in shrunk pixels (2 by default; a smaller one shrinks more).
 */
export function smallBlur(src: Float32Array, w: number, h: number, ch: number, sigma: number, width = 2): SmallField {
  const k = Math.max(1, Math.floor(sigma / width));
  if (k === 1) return { data: blurField(src, w, h, ch, sigma), width: w, height: h, ch, k };
  const sw = Math.ceil(w / k), sh = Math.ceil(h / k);
  const small = new Float32Array(sw * sh * ch), count = new Float32Array(sw * sh);
  // each block's run of a row summed in locals (per channel) and added once
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / k) * sw;
    for (let bx = 0; bx < sw; bx++) {
      const x0 = bx * k, x1 = Math.min(w, x0 + k), q = row + bx;
      count[q]! += x1 - x0;
      for (let c = 0; c < ch; c++) {
        let sum = 0;
        for (let i = (y * w + x0) * ch + c, end = (y * w + x1) * ch; i < end; i += ch) sum += src[i]!;
        small[q * ch + c]! += sum;
      }
    }
  }
  for (let q = 0; q < sw * sh; q++) for (let c = 0; c < ch; c++) small[q * ch + c]! /= count[q]!;
  return { data: blurField(small, sw, sh, ch, sigma / k), width: sw, height: sh, ch, k };
}

/** Channel `c` of a smallBlur field at full-size pixel (x, y), bilinear between block centres. */
export function readSmall(f: SmallField, x: number, y: number, c: number): number {
  const { k, width: sw, height: sh, ch, data } = f;
  if (k === 1) return data[(y * sw + x) * ch + c]!;
  // block centres sit at (k − 1) / 2 + k·j
  const fx = Math.min(sw - 1, Math.max(0, (x - (k - 1) / 2) / k));
  const fy = Math.min(sh - 1, Math.max(0, (y - (k - 1) / 2) / k));
  const x0 = Math.floor(fx), y0 = Math.floor(fy);
  const x1 = Math.min(sw - 1, x0 + 1), y1 = Math.min(sh - 1, y0 + 1);
  const tx = fx - x0, ty = fy - y0;
  const top = data[(y0 * sw + x0) * ch + c]! * (1 - tx) + data[(y0 * sw + x1) * ch + c]! * tx;
  const bot = data[(y1 * sw + x0) * ch + c]! * (1 - tx) + data[(y1 * sw + x1) * ch + c]! * tx;
  return top * (1 - ty) + bot * ty;
}

/**
 * Channel `c` of a smallBlur field read back at every full-size pixel, each value exactly what
 * readSmall returns there (the same taps and sums, in doubles), the taps worked out once per
 * column and per row rather than at each read.
 */
export function expandSmall(f: SmallField, w: number, h: number, c: number): Float64Array {
  const out = new Float64Array(w * h);
  const { k, width: sw, height: sh, ch, data } = f;
  if (k === 1) {
    for (let i = 0; i < w * h; i++) out[i] = data[i * ch + c]!;
    return out;
  }
  const xa = new Int32Array(w), xb = new Int32Array(w), xt = new Float64Array(w);
  for (let x = 0; x < w; x++) {
    const fx = Math.min(sw - 1, Math.max(0, (x - (k - 1) / 2) / k));
    const x0 = Math.floor(fx);
    xa[x] = x0 * ch + c; xb[x] = Math.min(sw - 1, x0 + 1) * ch + c; xt[x] = fx - x0;
  }
  for (let y = 0; y < h; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y - (k - 1) / 2) / k));
    const y0 = Math.floor(fy), ty = fy - y0;
    const r0 = y0 * sw * ch, r1 = Math.min(sh - 1, y0 + 1) * sw * ch;
    for (let x = 0, o = y * w; x < w; x++, o++) {
      const tx = xt[x]!, a = xa[x]!, b = xb[x]!;
      const top = data[r0 + a]! * (1 - tx) + data[r0 + b]! * tx;
      const bot = data[r1 + a]! * (1 - tx) + data[r1 + b]! * tx;
      out[o] = top * (1 - ty) + bot * ty;
    }
  }
  return out;
}

/** smallBlur read back at every pixel (as readSmall does): a full-size field. */
export function smoothField(src: Float32Array, w: number, h: number, ch: number, sigma: number): Float32Array {
  const f = smallBlur(src, w, h, ch, sigma);
  if (f.k === 1) return f.data;
  const { k, width: sw, height: sh, data } = f;
  const out = new Float32Array(w * h * ch);
  // the bilinear taps along a row, worked out once
  const xa = new Int32Array(w), xb = new Int32Array(w), xt = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const fx = Math.min(sw - 1, Math.max(0, (x - (k - 1) / 2) / k));
    const x0 = Math.floor(fx);
    xa[x] = x0 * ch; xb[x] = Math.min(sw - 1, x0 + 1) * ch; xt[x] = fx - x0;
  }
  for (let y = 0; y < h; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y - (k - 1) / 2) / k));
    const y0 = Math.floor(fy), ty = fy - y0;
    const r0 = y0 * sw * ch, r1 = Math.min(sh - 1, y0 + 1) * sw * ch;
    for (let x = 0; x < w; x++) {
      const a = xa[x]!, b = xb[x]!, tx = xt[x]!;
      const o = (y * w + x) * ch;
      for (let c = 0; c < ch; c++) {
        const top = data[r0 + a + c]! + (data[r0 + b + c]! - data[r0 + a + c]!) * tx;
        const bot = data[r1 + a + c]! + (data[r1 + b + c]! - data[r1 + a + c]!) * tx;
        out[o + c] = top + (bot - top) * ty;
      }
    }
  }
  return out;
}

/** Bilinear sample of a plane at (x, y) in its pixel coordinates; 0 outside. */
export function sample(p: Plane, x: number, y: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y);
  if (x0 < 0 || y0 < 0 || x0 >= p.width - 1 || y0 >= p.height - 1) return 0;
  const fx = x - x0, fy = y - y0;
  const i = y0 * p.width + x0, d = p.data;
  const top = d[i]! + (d[i + 1]! - d[i]!) * fx;
  const bot = d[i + p.width]! + (d[i + p.width + 1]! - d[i + p.width]!) * fx;
  return top + (bot - top) * fy;
}
