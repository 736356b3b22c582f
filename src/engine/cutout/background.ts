import type { Raster8 } from '../raster/types.js';

/**
 * Plain studio backgrounds (white, light grey, a seamless sweep) modelled from the image border.
 *
 * Each side's border band is averaged into a profile, cleaned with a median filter (so a product that
 * touches the edge for a short run does not bend it) and the four profiles are joined by a Coons patch:
 * a smooth surface that reproduces every side exactly, which covers flat colours, linear and curved
 * gradient sweeps and vignettes. The model works in normalised coordinates so one fit serves any scale.
 */
export interface BackgroundModel {
  /** the border is plain enough to model */
  plain: boolean;
  /** estimated noise (8-bit levels) of the background around its model */
  noise: number;
  /** background colour at normalised (u, v) in 0..1, written to out[0..2] */
  sample(u: number, v: number, out: Float32Array): void;
  /** the whole background at w*h, RGB planes interleaved (w*h*3) */
  render(w: number, h: number): Float32Array;
  /** {@link sample} at the pixel centres of a w*h image, for reading many of its pixels */
  pixels(w: number, h: number): BackdropPixels;
  /** {@link sample} on the grid of positions us (across) by vs (down), each 0..1 */
  grid(us: ArrayLike<number>, vs: ArrayLike<number>): BackdropPixels;
}

/**
 * The backdrop on a grid of positions (the centres of an image's pixels, or of cells of them):
 * {@link BackgroundModel.sample} with each side's interpolation done once per column and per row instead
 * of once per point (the same sums, so the same values). `cols` holds per column u, 1-u and the top and
 * bottom profiles there; `rows` per row v, 1-v and the left and right profiles.
 */
export class BackdropPixels {
  constructor(private readonly cols: Float64Array, private readonly rows: Float64Array, private readonly corners: Float64Array) {}

  at(x: number, y: number, out: Float32Array): void {
    const { cols, rows, corners: k } = this;
    const cq = x * 8, rq = y * 8;
    const u = cols[cq]!, iu = cols[cq + 1]!, v = rows[rq]!, iv = rows[rq + 1]!;
    for (let c = 0; c < 3; c++) {
      out[c] = iv * cols[cq + 2 + c]! + v * cols[cq + 5 + c]! + iu * rows[rq + 2 + c]! + u * rows[rq + 5 + c]! -
        (iu * iv * k[c]! + u * iv * k[3 + c]! + iu * v * k[6 + c]! + u * v * k[9 + c]!);
    }
  }
}

type Profile = Float32Array; // n*3, RGB per position

/** Fits the background model to an RGBA image (usually a small working copy of the source). */
export function fitBackground(img: Raster8): BackgroundModel {
  const { width: w, height: h, data, channels: ch } = img;
  const band = Math.max(2, Math.round(Math.min(w, h) * 0.008));
  const top = sideProfile(data, w, h, ch, band, 'top');
  const bottom = sideProfile(data, w, h, ch, band, 'bottom');
  const left = sideProfile(data, w, h, ch, band, 'left');
  const right = sideProfile(data, w, h, ch, band, 'right');

  let valid = 0, total = 0;
  const residuals: number[] = [];
  const clean = (p: Profile): Profile => {
    const n = p.length / 3;
    const med = medianFilter(p, Math.max(5, Math.round(n * 0.06) | 1));
    const smooth = boxSmooth(med, Math.max(2, Math.round(n * 0.01)));
    // positions far from the smooth profile are product (or clutter) touching the edge
    const ok = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const d = Math.abs(p[i * 3]! - smooth[i * 3]!) + Math.abs(p[i * 3 + 1]! - smooth[i * 3 + 1]!) + Math.abs(p[i * 3 + 2]! - smooth[i * 3 + 2]!);
      residuals.push(d / 3);
      ok[i] = d < 18 ? 1 : 0;
      valid += ok[i]!;
      total++;
    }
    return fillInvalid(smooth, ok);
  };
  const T = clean(top), B = clean(bottom), L = clean(left), R = clean(right);
  residuals.sort((a, b) => a - b);
  const medRes = residuals[Math.floor(residuals.length / 2)] ?? 0;
  // band averaging divides pixel noise by sqrt(band); undo that for a per-pixel estimate
  const noise = Math.max(1, medRes * 1.4826 * Math.sqrt(band));
  // the sides must agree where they meet, or the border is a scene, not a backdrop
  const cornerGap = Math.max(
    colourGap(T, 0, L, 0), colourGap(T, T.length / 3 - 1, R, 0),
    colourGap(B, 0, L, L.length / 3 - 1), colourGap(B, B.length / 3 - 1, R, R.length / 3 - 1),
  );
  const roughness = Math.max(profileRoughness(T), profileRoughness(B), profileRoughness(L), profileRoughness(R));
  const plain = valid / total > 0.7 && cornerGap < 20 && roughness < 6;

  const nT = T.length / 3, nL = L.length / 3;
  const c00 = [T[0]!, T[1]!, T[2]!], c10 = [T[(nT - 1) * 3]!, T[(nT - 1) * 3 + 1]!, T[(nT - 1) * 3 + 2]!];
  const c01 = [B[0]!, B[1]!, B[2]!], c11 = [B[(nT - 1) * 3]!, B[(nT - 1) * 3 + 1]!, B[(nT - 1) * 3 + 2]!];
  const grid = (us: ArrayLike<number>, vs: ArrayLike<number>): BackdropPixels =>
    new BackdropPixels(sideTerms(T, B, us), sideTerms(L, R, vs), Float64Array.from([...c00, ...c10, ...c01, ...c11]));
  return {
    plain,
    noise,
    sample(u, v, out) {
      // the same sums as `at` for each side and channel, with each side's position found once
      const xu = Math.min(nT - 1, Math.max(0, u * (nT - 1))), iu = Math.min(nT - 2, Math.floor(xu)), fu = xu - iu;
      const xv = Math.min(nL - 1, Math.max(0, v * (nL - 1))), iv = Math.min(nL - 2, Math.floor(xv)), fv = xv - iv;
      for (let c = 0; c < 3; c++) {
        const t = T[iu * 3 + c]! * (1 - fu) + T[(iu + 1) * 3 + c]! * fu, b = B[iu * 3 + c]! * (1 - fu) + B[(iu + 1) * 3 + c]! * fu;
        const l = L[iv * 3 + c]! * (1 - fv) + L[(iv + 1) * 3 + c]! * fv, r = R[iv * 3 + c]! * (1 - fv) + R[(iv + 1) * 3 + c]! * fv;
        out[c] = (1 - v) * t + v * b + (1 - u) * l + u * r -
          ((1 - u) * (1 - v) * c00[c]! + u * (1 - v) * c10[c]! + (1 - u) * v * c01[c]! + u * v * c11[c]!);
      }
    },
    render(w, h) {
      return renderCoons(T, B, L, R, c00, c10, c01, c11, w, h);
    },
    pixels(w, h) {
      return grid(centres(w), centres(h));
    },
    grid,
  };
}

/** The centres of n pixels across 0..1. */
function centres(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (i + 0.5) / n;
  return out;
}

/** Per position ts[i] along a pair of opposite sides: t, 1-t and both sides' colours there (8 numbers). */
function sideTerms(a: Profile, b: Profile, ts: ArrayLike<number>): Float64Array {
  const np = a.length / 3, n = ts.length;
  const out = new Float64Array(n * 8);
  for (let i = 0; i < n; i++) {
    // as sample() finds its place on a side
    const t = ts[i]!;
    const xt = Math.min(np - 1, Math.max(0, t * (np - 1))), it = Math.min(np - 2, Math.floor(xt)), ft = xt - it;
    out[i * 8] = t; out[i * 8 + 1] = 1 - t;
    for (let c = 0; c < 3; c++) {
      out[i * 8 + 2 + c] = a[it * 3 + c]! * (1 - ft) + a[(it + 1) * 3 + c]! * ft;
      out[i * 8 + 5 + c] = b[it * 3 + c]! * (1 - ft) + b[(it + 1) * 3 + c]! * ft;
    }
  }
  return out;
}

/** linear interpolation along a side profile at t in 0..1 */
function at(p: Profile, n: number, t: number, c: number): number {
  const x = Math.min(n - 1, Math.max(0, t * (n - 1)));
  const i = Math.min(n - 2, Math.floor(x));
  const f = x - i;
  return p[i * 3 + c]! * (1 - f) + p[(i + 1) * 3 + c]! * f;
}

/**
 * The Coons patch of the four side profiles at w*h (RGB interleaved). A top-level function, not a
 * closure: it runs once per image and V8 compiles it with its hot loop (see refineMatte in matte.ts).
 */
function renderCoons(T: Profile, B: Profile, L: Profile, R: Profile, c00: number[], c10: number[], c01: number[], c11: number[], w: number, h: number): Float32Array {
  const nT = T.length / 3, nL = L.length / 3;
  // the Coons patch is separable into per-column and per-row terms; precompute them
  const out = new Float32Array(w * h * 3);
  const tx = new Float32Array(w * 3), bx = new Float32Array(w * 3), ly = new Float32Array(h * 3), ry = new Float32Array(h * 3);
  for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) { const u = (x + 0.5) / w; tx[x * 3 + c] = at(T, nT, u, c); bx[x * 3 + c] = at(B, nT, u, c); }
  for (let y = 0; y < h; y++) for (let c = 0; c < 3; c++) { const v = (y + 0.5) / h; ly[y * 3 + c] = at(L, nL, v, c); ry[y * 3 + c] = at(R, nL, v, c); }
  const [a0, a1, a2] = c00, [b0, b1, b2] = c10, [d0, d1, d2] = c01, [e0, e1, e2] = c11;
  for (let y = 0; y < h; y++) {
    const v = (y + 0.5) / h, iv = 1 - v;
    const l0 = ly[y * 3]!, l1 = ly[y * 3 + 1]!, l2 = ly[y * 3 + 2]!, r0 = ry[y * 3]!, r1 = ry[y * 3 + 1]!, r2 = ry[y * 3 + 2]!;
    let o = y * w * 3;
    for (let x = 0; x < w; x++, o += 3) {
      // the same expression per channel as before, with the row's terms and the corners in locals
      const u = (x + 0.5) / w, iu = 1 - u, q = x * 3;
      out[o] = iv * tx[q]! + v * bx[q]! + iu * l0 + u * r0 - (iu * iv * a0! + u * iv * b0! + iu * v * d0! + u * v * e0!);
      out[o + 1] = iv * tx[q + 1]! + v * bx[q + 1]! + iu * l1 + u * r1 - (iu * iv * a1! + u * iv * b1! + iu * v * d1! + u * v * e1!);
      out[o + 2] = iv * tx[q + 2]! + v * bx[q + 2]! + iu * l2 + u * r2 - (iu * iv * a2! + u * iv * b2! + iu * v * d2! + u * v * e2!);
    }
  }
  return out;
}

function sideProfile(data: Buffer, w: number, h: number, ch: number, band: number, side: 'top' | 'bottom' | 'left' | 'right'): Profile {
  const horizontal = side === 'top' || side === 'bottom';
  const n = horizontal ? w : h;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    let r = 0, g = 0, b = 0;
    for (let k = 0; k < band; k++) {
      const x = horizontal ? i : side === 'left' ? k : w - 1 - k;
      const y = horizontal ? (side === 'top' ? k : h - 1 - k) : i;
      const p = (y * w + x) * ch;
      r += data[p]!; g += data[p + 1]!; b += data[p + 2]!;
    }
    out[i * 3] = r / band; out[i * 3 + 1] = g / band; out[i * 3 + 2] = b / band;
  }
  return out;
}

function medianFilter(p: Profile, win: number): Profile {
  const n = p.length / 3;
  const out = new Float32Array(p.length);
  const half = win >> 1;
  // the window kept sorted as it slides: each step removes one value and inserts one, instead of
  // sorting the whole window at every position
  const buf = new Float32Array(win + 1);
  for (let c = 0; c < 3; c++) {
    let m = 0, lo = 0, hi = -1;
    for (let i = 0; i < n; i++) {
      const nlo = Math.max(0, i - half), nhi = Math.min(n - 1, i + half);
      for (; lo < nlo; lo++) m = sortedRemove(buf, m, p[lo * 3 + c]!);
      for (; hi < nhi; ) { hi++; m = sortedInsert(buf, m, p[hi * 3 + c]!); }
      out[i * 3 + c] = buf[m >> 1]!;
    }
  }
  return out;
}

function sortedInsert(buf: Float32Array, m: number, v: number): number {
  let j = m;
  while (j > 0 && buf[j - 1]! > v) { buf[j] = buf[j - 1]!; j--; }
  buf[j] = v;
  return m + 1;
}

function sortedRemove(buf: Float32Array, m: number, v: number): number {
  let j = 0;
  while (j < m && buf[j] !== v) j++;
  for (; j < m - 1; j++) buf[j] = buf[j + 1]!;
  return m - 1;
}

function boxSmooth(p: Profile, r: number): Profile {
  const n = p.length / 3;
  const out = new Float32Array(p.length);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      let s = 0, k = 0;
      for (let j = Math.max(0, i - r); j <= Math.min(n - 1, i + r); j++) { s += p[j * 3 + c]!; k++; }
      out[i * 3 + c] = s / k;
    }
  }
  return out;
}

/** Replaces invalid runs by linear interpolation between the nearest valid neighbours. */
function fillInvalid(p: Profile, ok: Uint8Array): Profile {
  const n = ok.length;
  const out = new Float32Array(p);
  let prev = -1;
  for (let i = 0; i <= n; i++) {
    if (i < n && !ok[i]) continue;
    if (i - prev > 1) {
      for (let j = prev + 1; j < i; j++) {
        for (let c = 0; c < 3; c++) {
          const a = prev >= 0 ? p[prev * 3 + c]! : i < n ? p[i * 3 + c]! : p[j * 3 + c]!;
          const b = i < n ? p[i * 3 + c]! : a;
          const t = prev >= 0 && i < n ? (j - prev) / (i - prev) : 0;
          out[j * 3 + c] = a * (1 - t) + b * t;
        }
      }
    }
    prev = i;
  }
  return out;
}

function colourGap(a: Profile, i: number, b: Profile, j: number): number {
  return Math.max(Math.abs(a[i * 3]! - b[j * 3]!), Math.abs(a[i * 3 + 1]! - b[j * 3 + 1]!), Math.abs(a[i * 3 + 2]! - b[j * 3 + 2]!));
}

/** Mean absolute second difference over a coarse grid: low for gradients, high for busy scenes. */
function profileRoughness(p: Profile): number {
  const n = p.length / 3;
  const step = Math.max(1, Math.floor(n / 32));
  let s = 0, k = 0;
  for (let i = step; i + step < n; i += step) {
    for (let c = 0; c < 3; c++) s += Math.abs(p[(i - step) * 3 + c]! - 2 * p[i * 3 + c]! + p[(i + step) * 3 + c]!);
    k += 3;
  }
  return k ? s / k : 0;
}
