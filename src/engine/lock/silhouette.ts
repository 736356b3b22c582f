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

/** A least-squares gain and offset per channel from `from` to `to` over `idx`, refitted on its better-fitting half. */
function fitMap(from: Float32Array, to: Float32Array, idx: Int32Array): Array<[number, number]> {
  const fit = (use: Int32Array): Array<[number, number]> => [0, 1, 2].map((c) => {
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (let k = 0; k < use.length; k++) { const i = use[k]!; const x = from[i * 3 + c]!, y = to[i * 3 + c]!; sx += x; sy += y; sxx += x * x; sxy += x * y; }
    const n = Math.max(1, use.length);
    const vx = sxx - (sx * sx) / n;
    const g = vx > 1e-3 * n ? (sxy - (sx * sy) / n) / vx : 1;
    return [g, (sy - g * sx) / n] as [number, number];
  });
  // refitted twice on the better-fitting part, so a part of the product the upstream lost (up
  // to half of it) does not pull the map toward the set that shows through there
  let m = fit(idx);
  const res = new Float64Array(idx.length);
  for (const keep of [0.7, 0.5]) {
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      let e = 0;
      for (let c = 0; c < 3; c++) e += (to[i * 3 + c]! - (m[c]![0] * from[i * 3 + c]! + m[c]![1])) ** 2;
      res[k] = e;
    }
    const cut = res.slice().sort()[Math.floor(res.length * keep)] ?? Infinity;
    const use: number[] = [];
    for (let k = 0; k < idx.length; k++) if (res[k]! <= cut) use.push(idx[k]!);
    m = fit(Int32Array.from(use));
  }
  return m;
}

export function readSilhouette(s: SilhouetteInput): SilhouetteReading {
  const gen = { data: s.generated, width: s.width, height: s.height };
  const prod = { data: s.product };
  const al = { data: s.alpha };
  const { width: w, height: h } = gen;
  const n = w * h;
  const long = s.productLong;
  const band = Math.max(4, Math.round(long * 0.15));

  const A = new Uint8Array(n);
  for (let i = 0; i < n; i++) A[i] = al.data[i]! >= 0.5 ? 1 : 0;
  const notA = new Uint8Array(n);
  for (let i = 0; i < n; i++) notA[i] = A[i] ? 0 : 1;
  const toA = distanceTo(A, w, h);
  const toOutside = distanceTo(notA, w, h);

  // the set: pixels beyond the band
  const setPx = new Uint8Array(n);
  for (let i = 0; i < n; i++) setPx[i] = toA[i]! > band ? 1 : 0;
  const setColour = normalisedBlur(gen.data, setPx, w, h, band / 2);
  const setWide = normalisedBlur(gen.data, setPx, w, h, band * 2);
  // and the set's colour at the nearest pixel beyond the band: where the set changes within a blur's
  // reach (the floor's edge beside the product), the blur's mix of the two is like neither
  const nearest = nearestOf(setPx, w, h);
  const setNearest = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const j = nearest[i]!;
    if (j < 0) { setNearest[i * 3] = setNearest[i * 3 + 1] = setNearest[i * 3 + 2] = -1e4; continue; }
    setNearest[i * 3] = gen.data[j * 3]!; setNearest[i * 3 + 1] = gen.data[j * 3 + 1]!; setNearest[i * 3 + 2] = gen.data[j * 3 + 2]!;
  }

  // the product's colours: the source's through a per-channel map fitted on the inside
  const innerList: number[] = [];
  for (let i = 0; i < n; i++) if (toOutside[i]! > 2 && al.data[i]! > 0.99) innerList.push(i);
  // a regular sample of at most 4000 of them is as good a fit and median as all of them
  const stride = Math.max(1, Math.floor(innerList.length / 4000));
  const inner = Int32Array.from(innerList.filter((_, k) => k % stride === 0));
  const map = fitMap(prod.data, gen.data, inner);
  const dist2 = (a: Float32Array, i: number, b: Float32Array, j: number) =>
    (a[i * 3]! - b[j * 3]!) ** 2 + (a[i * 3 + 1]! - b[j * 3 + 1]!) ** 2 + (a[i * 3 + 2]! - b[j * 3 + 2]!) ** 2;
  const expected = new Float32Array(n * 3);
  const [[g0, o0], [g1, o1], [g2, o2]] = map as [[number, number], [number, number], [number, number]];
  const pd = prod.data;
  for (let i = 0; i < n * 3; i += 3) {
    expected[i] = g0 * pd[i]! + o0; expected[i + 1] = g1 * pd[i + 1]! + o1; expected[i + 2] = g2 * pd[i + 2]! + o2;
  }

  // how far the upstream's product strays from the mapped source at most, where no set colour is
  // near enough to compare with (deep inside a large product): four times the typical residual
  const residuals = new Float64Array(inner.length);
  for (let k = 0; k < inner.length; k++) residuals[k] = Math.sqrt(dist2(gen.data, inner[k]!, expected, inner[k]!));
  residuals.sort();
  const tau = Math.max(40, 4 * (residuals[Math.floor(residuals.length / 2)] ?? 0));
  const G = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!A[i]) continue;
    const dp = dist2(gen.data, i, expected, i);
    const setKnown = setColour[i * 3]! >= 0;
    const ds = setKnown ? dist2(gen.data, i, setColour, i) : Infinity;
    // near the outline the analysis pixel mixes product and set: give the product the benefit there
    G[i] = (toOutside[i]! <= 1.5 ? dp <= RIM * ds : dp <= ds) && (setKnown || dp <= tau * tau) ? 1 : 0;
  }
  // outside the matte: the product's colours nearby (as the upstream painted them) against the set's
  const sure = new Uint8Array(n);
  for (let i = 0; i < n; i++) sure[i] = G[i] && toOutside[i]! > 2 ? 1 : 0;
  const productNear = normalisedBlur(gen.data, sure, w, h, band);
  let top = h, bottom = -1;
  for (let i = 0; i < n; i++) if (A[i]) { const y = Math.floor(i / w); if (y < top) top = y; if (y > bottom) bottom = y; }
  const groundFrom = Math.max(0, Math.round(bottom - 0.1 * (bottom - top))) * w;
  for (let i = 0; i < n; i++) {
    if (A[i] || toA[i]! > band) continue;
    const dp = dist2(gen.data, i, productNear, i);
    const setHere = setColour[i * 3]! >= 0 ? setColour : setWide;
    // on the ground under the base, a darker set is the contact shadow the upstream painted
    const ds = i >= groundFrom
      ? Math.min(shaded2(gen.data, i, setHere), shaded2(gen.data, i, setNearest))
      : Math.min(dist2(gen.data, i, setHere, i), dist2(gen.data, i, setNearest, i));
    G[i] = dp < ds * 0.6 ? 1 : 0;
  }
  // only what hangs together with the product counts as its silhouette (a dark patch of the set
  // further out is not the product grown)
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
  let inter = 0, union = 0;
  for (let i = 0; i < n; i++) {
    if (A[i] && keep[i]) inter++;
    // a pixel just outside the outline may be the upstream's redrawn edge: not a change of shape
    if (A[i] || (keep[i] && toA[i]! > 1.5)) union++;
  }
  return { iou: union > 0 ? inter / union : 0 };
}
