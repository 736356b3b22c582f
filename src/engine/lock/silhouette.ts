import { smoothField } from './field.js';

/**
 * Did the upstream keep the product's silhouette? With the product aligned, each pixel of a band
 * around its outline (and all of its inside) is read as product or set: inside, a pixel is product
 * when it looks more like the source product's colour (through one per-channel gain and offset, so
 * relighting and a hue or exposure shift do not count) than like the set around it; outside, when it
 * looks more like the product's colours nearby than the set's. Set colours come from a normalised
 * blur of the pixels beyond the band. The IoU of that silhouette with the aligned matte is the figure
 * strict mode holds to.
 *
 * Thin products (stems, handles, straps) are most of them outline, and the set shows between their
 * parts: so set colours reach every pixel (a wider blur where the near one finds no set, rather than
 * "no set here, so product"), a pixel within 1.5 analysis pixels of the outline is judged by colour
 * with a tolerance for mixed pixels rather than counted as product outright (a missing stem is
 * seen), and on the ground under the base a darker set is the contact shadow the upstream painted,
 * not the product grown.
 */

export interface SilhouetteInput {
  /** the generated frame's region at the analysis size (see analysisLevel), RGB 0..255 floats */
  generated: Float32Array;
  /** the aligned product in the same region and size: straight RGB 0..255 and alpha 0..1 */
  product: Float32Array;
  alpha: Float32Array;
  width: number;
  height: number;
  /** the product's long side in these pixels */
  productLong: number;
}

export interface SilhouetteReading {
  iou: number;
}

/** the product's long side the silhouette is read at, about (at least, where it is larger) */
const ANALYSIS_LONG = 256;
/**
 * Within 1.5 analysis pixels of the outline a pixel mixes product and set: there it counts as
 * product when its colour is nearer the product's than RIM times the set's (in squared distance:
 * about a third of it product or more), rather than only when it is more product than set.
 */
const RIM = 4;

/** The power of two a frame region is shrunk by to read the silhouette of a product `long` pixels long. */
export function analysisLevel(long: number): number {
  let level = 0;
  while (long / 2 ** (level + 1) >= ANALYSIS_LONG) level++;
  return level;
}

/** Distance (in pixels, 8-connected chamfer) from every pixel to the nearest pixel where `set` is 1. */
export function distanceTo(set: Uint8Array, w: number, h: number): Float32Array {
  const d = new Float32Array(w * h).fill(1e9);
  for (let i = 0; i < w * h; i++) if (set[i]) d[i] = 0;
  chamfer(d, w, h);
  return d;
}

/**
 * The two passes of the 8-connected chamfer distance transform, in place: `d` holds 0 on the set and
 * a large value elsewhere. With `lo`/`hi`, only each row's columns lo[y]..hi[y] are worked (a band
 * that holds every pixel of interest and every shortest path to it); without, whole rows.
 */
export function chamfer(d: Float32Array, w: number, h: number, lo?: Int32Array, hi?: Int32Array): void {
  const D = Math.SQRT2;
  for (let y = 0; y < h; y++) {
    for (let x = lo ? lo[y]! : 0, end = hi ? hi[y]! : w - 1; x <= end; x++) {
      const i = y * w + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x > 0 && d[i - 1]! + 1 < v) v = d[i - 1]! + 1;
      if (y > 0) {
        if (d[i - w]! + 1 < v) v = d[i - w]! + 1;
        if (x > 0 && d[i - w - 1]! + D < v) v = d[i - w - 1]! + D;
        if (x < w - 1 && d[i - w + 1]! + D < v) v = d[i - w + 1]! + D;
      }
      d[i] = v;
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = hi ? hi[y]! : w - 1, end = lo ? lo[y]! : 0; x >= end; x--) {
      const i = y * w + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x < w - 1 && d[i + 1]! + 1 < v) v = d[i + 1]! + 1;
      if (y < h - 1) {
        if (d[i + w]! + 1 < v) v = d[i + w]! + 1;
        if (x < w - 1 && d[i + w + 1]! + D < v) v = d[i + w + 1]! + D;
        if (x > 0 && d[i + w - 1]! + D < v) v = d[i + w - 1]! + D;
      }
      d[i] = v;
    }
  }
}

/** For every pixel, the index of a nearest pixel (8-connected chamfer) where `set` is 1; −1 where there is none. */
function nearestOf(set: Uint8Array, w: number, h: number): Int32Array {
  const d = new Float32Array(w * h).fill(1e9);
  const idx = new Int32Array(w * h).fill(-1);
  for (let i = 0; i < w * h; i++) if (set[i]) { d[i] = 0; idx[i] = i; }
  const D = Math.SQRT2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = d[i]!, k = idx[i]!;
      if (x > 0 && d[i - 1]! + 1 < v) { v = d[i - 1]! + 1; k = idx[i - 1]!; }
      if (y > 0) {
        if (d[i - w]! + 1 < v) { v = d[i - w]! + 1; k = idx[i - w]!; }
        if (x > 0 && d[i - w - 1]! + D < v) { v = d[i - w - 1]! + D; k = idx[i - w - 1]!; }
        if (x < w - 1 && d[i - w + 1]! + D < v) { v = d[i - w + 1]! + D; k = idx[i - w + 1]!; }
      }
      d[i] = v; idx[i] = k;
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      let v = d[i]!, k = idx[i]!;
      if (x < w - 1 && d[i + 1]! + 1 < v) { v = d[i + 1]! + 1; k = idx[i + 1]!; }
      if (y < h - 1) {
        if (d[i + w]! + 1 < v) { v = d[i + w]! + 1; k = idx[i + w]!; }
        if (x < w - 1 && d[i + w + 1]! + D < v) { v = d[i + w + 1]! + D; k = idx[i + w + 1]!; }
        if (x > 0 && d[i + w - 1]! + D < v) { v = d[i + w - 1]! + D; k = idx[i + w - 1]!; }
      }
      d[i] = v; idx[i] = k;
    }
  }
  return idx;
}

/** Normalised blur: the average of `rgb` over the pixels `weight` marks, spread `sigma` pixels. */
function normalisedBlur(rgb: Float32Array, weight: Uint8Array, w: number, h: number, sigma: number): Float32Array {
  const n = w * h;
  const num = new Float32Array(n * 3), den = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (!weight[i]) continue;
    den[i] = 1;
    num[i * 3] = rgb[i * 3]!; num[i * 3 + 1] = rgb[i * 3 + 1]!; num[i * 3 + 2] = rgb[i * 3 + 2]!;
  }
  const bn = smoothField(num, w, h, 3, sigma), bd = smoothField(den, w, h, 1, sigma);
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const dd = bd[i]!;
    if (dd > 1e-4) for (let c = 0; c < 3; c++) out[i * 3 + c] = bn[i * 3 + c]! / dd;
    else out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = -1e4; // nothing near: never the nearer colour
  }
  return out;
}

/**
 * Squared distance from pixel i of `a` to the set colour at i in `b` darkened by the gain (0.3..1)
 * that fits best: a shadow the upstream painted on the set is still the set.
 */
function shaded2(a: Float32Array, i: number, b: Float32Array): number {
  const o = i * 3;
  const r = a[o]!, g = a[o + 1]!, bl = a[o + 2]!, R = b[o]!, G = b[o + 1]!, B = b[o + 2]!;
  const ss = R * R + G * G + B * B;
  const k0 = ss > 0 ? (r * R + g * G + bl * B) / ss : 1;
  const k = k0 < 0.3 ? 0.3 : k0 > 1 ? 1 : k0;
  return (r - k * R) ** 2 + (g - k * G) ** 2 + (bl - k * B) ** 2;
}

/**
 * A least-squares gain and offset per channel from `from` to `to` over `use[0..count)`:
 * [gain r, offset r, gain g, offset g, gain b, offset b].
 */
function fitChannels(from: Float32Array, to: Float32Array, use: Int32Array, count: number): Float64Array {
  const m = new Float64Array(6);
  const n = Math.max(1, count);
  for (let c = 0; c < 3; c++) {
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (let k = 0; k < count; k++) { const i = use[k]!; const x = from[i * 3 + c]!, y = to[i * 3 + c]!; sx += x; sy += y; sxx += x * x; sxy += x * y; }
    const vx = sxx - (sx * sx) / n;
    const g = vx > 1e-3 * n ? (sxy - (sx * sy) / n) / vx : 1;
    m[c * 2] = g; m[c * 2 + 1] = (sy - g * sx) / n;
  }
  return m;
}

/** Squared residual of each of `idx`'s pixels against the per-channel map `m` (fitChannels'). */
function mapResiduals(from: Float32Array, to: Float32Array, idx: Int32Array, m: Float64Array, res: Float64Array): void {
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    let e = 0;
    for (let c = 0; c < 3; c++) e += (to[i * 3 + c]! - (m[c * 2]! * from[i * 3 + c]! + m[c * 2 + 1]!)) ** 2;
    res[k] = e;
  }
}

/** The entries of `idx` whose residual is at most `cut`, in order, into `use`; returns how many. */
function within(idx: Int32Array, res: Float64Array, cut: number, use: Int32Array): number {
  let count = 0;
  for (let k = 0; k < idx.length; k++) if (res[k]! <= cut) use[count++] = idx[k]!;
  return count;
}

/** A least-squares gain and offset per channel from `from` to `to` over `idx`, refitted on its better-fitting half (see fitChannels). */
function fitMap(from: Float32Array, to: Float32Array, idx: Int32Array): Float64Array {
  // refitted twice on the better-fitting part, so a part of the product the upstream lost (up
  // to half of it) does not pull the map toward the set that shows through there
  let m = fitChannels(from, to, idx, idx.length);
  const res = new Float64Array(idx.length);
  const use = new Int32Array(idx.length);
  for (const keep of [0.7, 0.5]) {
    mapResiduals(from, to, idx, m, res);
    const cut = res.slice().sort()[Math.floor(res.length * keep)] ?? Infinity;
    m = fitChannels(from, to, use, within(idx, res, cut, use));
  }
  return m;
}

/** 1 where `v` is at least `t` (`atLeast`) or more than `t` (otherwise), else 0. */
function threshold(v: Float32Array, t: number, atLeast: boolean): Uint8Array {
  const out = new Uint8Array(v.length);
  if (atLeast) { for (let i = 0; i < v.length; i++) out[i] = v[i]! >= t ? 1 : 0; }
  else for (let i = 0; i < v.length; i++) out[i] = v[i]! > t ? 1 : 0;
  return out;
}

function invert(m: Uint8Array): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = m[i] ? 0 : 1;
  return out;
}

/** The colour of `rgb` at each pixel's `nearest` pixel (−1e4, never the nearer colour, where there is none). */
function colourAtNearest(rgb: Float32Array, nearest: Int32Array): Float32Array {
  const out = new Float32Array(nearest.length * 3);
  for (let i = 0; i < nearest.length; i++) {
    const j = nearest[i]!;
    if (j < 0) { out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = -1e4; continue; }
    out[i * 3] = rgb[j * 3]!; out[i * 3 + 1] = rgb[j * 3 + 1]!; out[i * 3 + 2] = rgb[j * 3 + 2]!;
  }
  return out;
}

/**
 * The product's inside, away from the outline (more than 2 pixels in, alpha over 0.99): a regular
 * sample of at most about `max` of its pixels, which is as good a fit and median as all of them.
 */
function innerSample(toOutside: Float32Array, alpha: Float32Array, max: number): Int32Array {
  const n = toOutside.length;
  let count = 0;
  for (let i = 0; i < n; i++) if (toOutside[i]! > 2 && alpha[i]! > 0.99) count++;
  const stride = Math.max(1, Math.floor(count / max));
  const out = new Int32Array(Math.ceil(count / stride));
  for (let i = 0, k = 0, q = 0; i < n; i++) {
    if (!(toOutside[i]! > 2 && alpha[i]! > 0.99)) continue;
    if (k % stride === 0) out[q++] = i;
    k++;
  }
  return out;
}

/** The source's colours through the per-channel map `m` (fitChannels'). */
function mapColours(src: Float32Array, m: Float64Array): Float32Array {
  const out = new Float32Array(src.length);
  const g0 = m[0]!, o0 = m[1]!, g1 = m[2]!, o1 = m[3]!, g2 = m[4]!, o2 = m[5]!;
  for (let i = 0; i < src.length; i += 3) {
    out[i] = g0 * src[i]! + o0; out[i + 1] = g1 * src[i + 1]! + o1; out[i + 2] = g2 * src[i + 2]! + o2;
  }
  return out;
}

/** Squared RGB distance between pixel i of `a` and pixel j of `b`. */
function dist2(a: Float32Array, i: number, b: Float32Array, j: number): number {
  return (a[i * 3]! - b[j * 3]!) ** 2 + (a[i * 3 + 1]! - b[j * 3 + 1]!) ** 2 + (a[i * 3 + 2]! - b[j * 3 + 2]!) ** 2;
}

/** The median distance between the upstream's colours and the mapped source over `inner`. */
function medianResidual(gen: Float32Array, expected: Float32Array, inner: Int32Array): number {
  const residuals = new Float64Array(inner.length);
  for (let k = 0; k < inner.length; k++) residuals[k] = Math.sqrt(dist2(gen, inner[k]!, expected, inner[k]!));
  residuals.sort();
  return residuals[Math.floor(residuals.length / 2)] ?? 0;
}

/**
 * Inside the matte (A): product where the upstream's colour is nearer the mapped source than the
 * set's (near the outline, than RIM times the set's), and, where no set colour is known, within
 * tau of the mapped source.
 */
function classifyInside(G: Uint8Array, A: Uint8Array, gen: Float32Array, expected: Float32Array, setColour: Float32Array, toOutside: Float32Array, tau: number): void {
  const tau2 = tau * tau;
  for (let i = 0; i < A.length; i++) {
    if (!A[i]) continue;
    const dp = dist2(gen, i, expected, i);
    const setKnown = setColour[i * 3]! >= 0;
    const ds = setKnown ? dist2(gen, i, setColour, i) : Infinity;
    // near the outline the analysis pixel mixes product and set: give the product the benefit there
    G[i] = (toOutside[i]! <= 1.5 ? dp <= RIM * ds : dp <= ds) && (setKnown || dp <= tau2) ? 1 : 0;
  }
}

/**
 * Outside the matte, within the band: product where the upstream's colour is nearer the product's
 * nearby than the set's; from `groundFrom` on (the ground under the base) the set may be shaded.
 */
function classifyOutside(G: Uint8Array, A: Uint8Array, toA: Float32Array, band: number, gen: Float32Array, productNear: Float32Array, setColour: Float32Array, setWide: Float32Array, setNearest: Float32Array, groundFrom: number): void {
  for (let i = 0; i < A.length; i++) {
    if (A[i] || toA[i]! > band) continue;
    const dp = dist2(gen, i, productNear, i);
    const setHere = setColour[i * 3]! >= 0 ? setColour : setWide;
    // on the ground under the base, a darker set is the contact shadow the upstream painted
    const ds = i >= groundFrom
      ? Math.min(shaded2(gen, i, setHere), shaded2(gen, i, setNearest))
      : Math.min(dist2(gen, i, setHere, i), dist2(gen, i, setNearest, i));
    G[i] = dp < ds * 0.6 ? 1 : 0;
  }
}

/** 1 where G and toOutside > 2 (product for sure, away from the outline). */
function sureInside(G: Uint8Array, toOutside: Float32Array): Uint8Array {
  const out = new Uint8Array(G.length);
  for (let i = 0; i < G.length; i++) out[i] = G[i] && toOutside[i]! > 2 ? 1 : 0;
  return out;
}

/** The first and last rows where `A` is set ([h, −1] when none). */
function rowSpan(A: Uint8Array, w: number, h: number): [number, number] {
  let top = h, bottom = -1;
  for (let i = 0; i < A.length; i++) if (A[i]) { const y = Math.floor(i / w); if (y < top) top = y; if (y > bottom) bottom = y; }
  return [top, bottom];
}

/** The pixels of G 4-connected to a pixel of G inside A. */
function connected(G: Uint8Array, A: Uint8Array, w: number): Uint8Array {
  const n = G.length;
  const keep = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  for (let i = 0; i < n; i++) if (G[i] && A[i]) { keep[i] = 1; stack[sp++] = i; }
  while (sp > 0) {
    const i = stack[--sp]!;
    const x = i % w;
    if (x > 0 && G[i - 1] && !keep[i - 1]) { keep[i - 1] = 1; stack[sp++] = i - 1; }
    if (x < w - 1 && G[i + 1] && !keep[i + 1]) { keep[i + 1] = 1; stack[sp++] = i + 1; }
    if (i >= w && G[i - w] && !keep[i - w]) { keep[i - w] = 1; stack[sp++] = i - w; }
    if (i + w < n && G[i + w] && !keep[i + w]) { keep[i + w] = 1; stack[sp++] = i + w; }
  }
  return keep;
}

/** IoU of the kept silhouette with the matte A; a kept pixel within 1.5 of the outline is the upstream's redrawn edge. */
function iouOf(A: Uint8Array, keep: Uint8Array, toA: Float32Array): number {
  let inter = 0, union = 0;
  for (let i = 0; i < A.length; i++) {
    if (A[i] && keep[i]) inter++;
    // a pixel just outside the outline may be the upstream's redrawn edge: not a change of shape
    if (A[i] || (keep[i] && toA[i]! > 1.5)) union++;
  }
  return union > 0 ? inter / union : 0;
}

/*
 * readSilhouette is glue over the small kernels above: each loop is its own small function, so V8
 * optimises it once and keeps it, where one long function of a dozen loops was recompiled (entered
 * mid-loop) lock after lock and left in the interpreter in between.
 */
export function readSilhouette(s: SilhouetteInput): SilhouetteReading {
  const { width: w, height: h, generated: gen, product: prod, alpha } = s;
  const long = s.productLong;
  const band = Math.max(4, Math.round(long * 0.15));

  const A = threshold(alpha, 0.5, true);
  const toA = distanceTo(A, w, h);
  const toOutside = distanceTo(invert(A), w, h);

  // the set: pixels beyond the band
  const setPx = threshold(toA, band, false);
  const setColour = normalisedBlur(gen, setPx, w, h, band / 2);
  const setWide = normalisedBlur(gen, setPx, w, h, band * 2);
  // and the set's colour at the nearest pixel beyond the band: where the set changes within a blur's
  // reach (the floor's edge beside the product), the blur's mix of the two is like neither
  const setNearest = colourAtNearest(gen, nearestOf(setPx, w, h));

  // the product's colours: the source's through a per-channel map fitted on the inside
  const inner = innerSample(toOutside, alpha, 4000);
  const expected = mapColours(prod, fitMap(prod, gen, inner));

  // how far the upstream's product strays from the mapped source at most, where no set colour is
  // near enough to compare with (deep inside a large product): four times the typical residual
  const tau = Math.max(40, 4 * medianResidual(gen, expected, inner));
  const G = new Uint8Array(w * h);
  classifyInside(G, A, gen, expected, setColour, toOutside, tau);
  // outside the matte: the product's colours nearby (as the upstream painted them) against the set's
  const productNear = normalisedBlur(gen, sureInside(G, toOutside), w, h, band);
  const [top, bottom] = rowSpan(A, w, h);
  const groundFrom = Math.max(0, Math.round(bottom - 0.1 * (bottom - top))) * w;
  classifyOutside(G, A, toA, band, gen, productNear, setColour, setWide, setNearest, groundFrom);
  // only what hangs together with the product counts as its silhouette (a dark patch of the set
  // further out is not the product grown)
  return { iou: iouOf(A, connected(G, A, w), toA) };
}
