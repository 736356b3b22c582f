/** Small image filters on float planes, O(n) in the pixel count regardless of radius. */

/**
 * Scratch for {@link boxMean}'s horizontal pass when the caller passes none, kept between calls: fresh
 * large arrays cost page faults and, counted as external memory, garbage collections (a cutout makes
 * about twenty box means of model-sized planes). Each thread has its own module, and boxMean is synchronous.
 */
let shared = new Float32Array(0);
function scratch(n: number): Float32Array {
  if (shared.length < n) shared = new Float32Array(n);
  return shared;
}

/**
 * Mean over a (2r+1)^2 window, clamped at the borders (window shrinks). Writes into `out`; `tmp` is
 * scratch of at least w*h (by default one kept by this module).
 */
export function boxMean(src: Float32Array, w: number, h: number, r: number, out: Float32Array = new Float32Array(w * h), tmp: Float32Array = scratch(w * h)): Float32Array {
  // horizontal running sums: the window is clamped only within r of either end, so the middle of each
  // row runs without the clamps (the same sums in the same order as the clamped loop)
  const lead = Math.min(r, w - 1);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let x = 0; x <= lead; x++) s += src[row + x]!;
    if (w > 2 * r + 1) {
      const full = 2 * r + 1, mid = w - r - 1;
      for (let x = 0; x < r; x++) { tmp[row + x] = s / (x + r + 1); s += src[row + x + r + 1]!; }
      for (let x = r; x < mid; x++) { tmp[row + x] = s / full; s += src[row + x + r + 1]!; s -= src[row + x - r]!; }
      for (let x = mid; x < w; x++) { tmp[row + x] = s / (w - x + r); s -= src[row + x - r]!; }
    } else {
      for (let x = 0; x < w; x++) {
        const lo = Math.max(0, x - r), hi = Math.min(w - 1, x + r);
        tmp[row + x] = s / (hi - lo + 1);
        if (x + r + 1 < w) s += src[row + x + r + 1]!;
        if (x - r >= 0) s -= src[row + x - r]!;
      }
    }
  }
  // vertical running sums, column-wise with a row accumulator for cache friendliness; each row is one
  // pass that writes the mean and moves the window ((acc + in) - out, as two separate steps would)
  const acc = new Float64Array(w);
  for (let y = 0; y <= Math.min(r, h - 1); y++) { const row = y * w; for (let x = 0; x < w; x++) acc[x]! += tmp[row + x]!; }
  for (let y = 0; y < h; y++) {
    const lo = Math.max(0, y - r), hi = Math.min(h - 1, y + r);
    const inv = 1 / (hi - lo + 1);
    const row = y * w, add = (y + r + 1) * w, sub = (y - r) * w;
    if (y + r + 1 < h && y - r >= 0) {
      for (let x = 0; x < w; x++) { const a = acc[x]!; out[row + x] = a * inv; acc[x] = a + tmp[add + x]! - tmp[sub + x]!; }
    } else if (y + r + 1 < h) {
      for (let x = 0; x < w; x++) { const a = acc[x]!; out[row + x] = a * inv; acc[x] = a + tmp[add + x]!; }
    } else if (y - r >= 0) {
      for (let x = 0; x < w; x++) { const a = acc[x]!; out[row + x] = a * inv; acc[x] = a - tmp[sub + x]!; }
    } else {
      for (let x = 0; x < w; x++) out[row + x] = acc[x]! * inv;
    }
  }
  return out;
}

/**
 * The guided filter's (He, Sun, Tang) smoothed linear coefficients (mean a, mean b): an
 * edge-preserving smoothing of `p` that follows the edges of the grey guide `I` is q = A * I + B, which can be
 * evaluated at another resolution: computed on a subsampled grid and applied with the full-resolution
 * guide, this is the "fast guided filter" (He & Sun 2015).
 */
export function guidedCoefficients(I: Float32Array, p: Float32Array, w: number, h: number, r: number, eps: number, tmp: Float32Array = new Float32Array(w * h)): { A: Float32Array; B: Float32Array } {
  const n = w * h;
  const mI = boxMean(I, w, h, r, undefined, tmp);
  const mP = boxMean(p, w, h, r, undefined, tmp);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = I[i]! * p[i]!;
  const mIP = boxMean(t, w, h, r, undefined, tmp);
  for (let i = 0; i < n; i++) t[i] = I[i]! * I[i]!;
  const mII = boxMean(t, w, h, r, undefined, tmp);
  for (let i = 0; i < n; i++) {
    const varI = mII[i]! - mI[i]! * mI[i]!;
    const cov = mIP[i]! - mI[i]! * mP[i]!;
    const ai = cov / (varI + eps);
    t[i] = ai;
    mP[i] = mP[i]! - ai * mI[i]!;
  }
  return { A: boxMean(t, w, h, r, mIP, tmp), B: boxMean(mP, w, h, r, mII, tmp) };
}

/** out[i] = 1 where p[i] is at least one half (a probability or alpha plane thresholded as the IoU is). */
export function markHalf(p: Float32Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < out.length; i++) out[i] = p[i]! >= 0.5 ? 1 : 0;
  return out;
}

/**
 * A mask of 0s and 1s grown by r pixels: set wherever its (2r+1)^2 window, clamped at the borders, holds
 * a set pixel. Two 1-D passes: along the rows, each run of set pixels (found by the native indexOf) is
 * widened by r within its row; down the columns, a count of set pixels per column slides over 2r+1 rows.
 * A mask is mostly long runs, so the first pass costs a few native calls per row, and the second counts
 * four columns per 32-bit word where the rows are whole words.
 */
export function dilateMask(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const rows = new Uint8Array(m.length);
  widenRuns(m, rows, w, r);
  const out = new Uint8Array(m.length);
  // a count of up to 2r+1 ones fits one byte of a word without carrying into the next
  if (w % 4 === 0 && 2 * r + 1 <= 255) slideWords(rows, out, w / 4, h, r);
  else slideBytes(rows, out, w, h, r);
  return out;
}

/** {@link dilateMask}'s first pass: every run of 1s in `m` widened by r within its row, into `dst`. */
function widenRuns(m: Uint8Array, dst: Uint8Array, w: number, r: number): void {
  const n = m.length;
  let a = m.indexOf(1);
  while (a >= 0) {
    let b = m.indexOf(0, a);
    if (b < 0) b = n;
    // a run may go on over the ends of rows: each row's part of it is widened within that row
    for (let s = a; s < b; ) {
      const rowStart = s - (s % w), rowEnd = rowStart + w;
      const e = Math.min(b, rowEnd);
      dst.fill(1, Math.max(rowStart, s - r), Math.min(rowEnd, e + r));
      s = e;
    }
    a = b < n ? m.indexOf(1, b) : -1;
  }
}

/**
 * {@link dilateMask}'s second pass on whole words (W words a row): each byte of `acc` counts the 1s of its
 * column within the window, and a word's bytes are folded onto their lowest bit to give 1 where the count is not zero.
 */
function slideWords(src8: Uint8Array, dst8: Uint8Array, W: number, h: number, r: number): void {
  const src = new Uint32Array(src8.buffer, src8.byteOffset, W * h);
  const dst = new Uint32Array(dst8.buffer, dst8.byteOffset, W * h);
  const acc = new Uint32Array(W);
  for (let y = 0; y <= Math.min(r, h - 1); y++) addRow(src, acc, y * W, W);
  for (let y = 0; y < h; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      let v = acc[x]!;
      v |= v >>> 4;
      v |= v >>> 2;
      v |= v >>> 1;
      dst[row + x] = v & 0x01010101;
    }
    if (y + r + 1 < h) addRow(src, acc, (y + r + 1) * W, W);
    if (y - r >= 0) subRow(src, acc, (y - r) * W, W);
  }
}

function addRow(src: Uint32Array, acc: Uint32Array, from: number, W: number): void {
  for (let x = 0; x < W; x++) acc[x] = acc[x]! + src[from + x]!;
}

function subRow(src: Uint32Array, acc: Uint32Array, from: number, W: number): void {
  for (let x = 0; x < W; x++) acc[x] = acc[x]! - src[from + x]!;
}

/** {@link slideWords} a byte at a time, for rows that are not whole words. */
function slideBytes(src: Uint8Array, dst: Uint8Array, w: number, h: number, r: number): void {
  const acc = new Int32Array(w);
  for (let y = 0; y <= Math.min(r, h - 1); y++) for (let x = 0; x < w; x++) acc[x]! += src[y * w + x]!;
  for (let y = 0; y < h; y++) {
    const row = y * w, add = (y + r + 1) * w, sub = (y - r) * w;
    for (let x = 0; x < w; x++) dst[row + x] = acc[x]! > 0 ? 1 : 0;
    if (y + r + 1 < h) for (let x = 0; x < w; x++) acc[x]! += src[add + x]!;
    if (y - r >= 0) for (let x = 0; x < w; x++) acc[x]! -= src[sub + x]!;
  }
}
