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
 * A mask grown by r pixels: set wherever its (2r+1)^2 window, clamped at the borders, holds a set pixel.
 * Two 1-D passes over bytes, each carrying the distance to the last set pixel seen from either side
 * (a float box mean of the mask answered the same question at several times the cost). The vertical
 * pass walks whole rows, keeping one distance per column, so it reads memory in order.
 */
export function dilateMask(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const rows = new Uint8Array(m.length);
  for (let y = 0; y < h; y++) dilateRow(m, rows, y * w, w, r);
  const out = new Uint8Array(m.length);
  const since = new Int32Array(w);
  // downwards: within r below a set pixel; upwards: within r above one
  since.fill(r + 1);
  for (let y = 0; y < h; y++) dilateDown(rows, out, since, y * w, w, r);
  since.fill(r + 1);
  for (let y = h - 1; y >= 0; y--) dilateDown(rows, out, since, y * w, w, r);
  return out;
}

/** One row of {@link dilateMask}'s horizontal pass: w pixels from `start`. */
function dilateRow(src: Uint8Array, dst: Uint8Array, start: number, w: number, r: number): void {
  // forward: within r after a set pixel; backward: within r before one
  let since = r + 1;
  for (let i = start, end = start + w; i < end; i++) {
    since = src[i] ? 0 : since + 1;
    if (since <= r) dst[i] = 1;
  }
  since = r + 1;
  for (let i = start + w - 1; i >= start; i--) {
    since = src[i] ? 0 : since + 1;
    if (since <= r) dst[i] = 1;
  }
}

/** One row of {@link dilateMask}'s vertical pass, in whichever direction the caller walks the rows. */
function dilateDown(src: Uint8Array, dst: Uint8Array, since: Int32Array, start: number, w: number, r: number): void {
  for (let x = 0; x < w; x++) {
    const d = src[start + x] ? 0 : since[x]! + 1;
    since[x] = d;
    if (d <= r) dst[start + x] = 1;
  }
}
