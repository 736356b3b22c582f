import { blurField, halve, type Plane } from './field.js';

/**
 * Did the upstream keep the product's silhouette? With the product aligned, each pixel of a band
 * around its outline (and all of its inside) is read as product or set: inside, a pixel is product
 * when it looks more like the source product's colour (through one per-channel gain and offset, so
 * relighting and a hue or exposure shift do not count) than like the set around it; outside, when it
 * looks more like the product's colours nearby than the set's. Set colours come from a normalised
 * blur of the pixels beyond the band. The IoU of that silhouette with the aligned matte is the figure
 * strict mode holds to.
 */

export interface SilhouetteInput {
  /** the generated frame's region, RGB 0..255 floats, region-sized */
  generated: Float32Array;
  /** the aligned product in the same region: straight RGB 0..255 and alpha 0..1 */
  product: Float32Array;
  alpha: Float32Array;
  width: number;
  height: number;
  /** the product's long side in region pixels */
  productLong: number;
}

export interface SilhouetteReading {
  iou: number;
}

const ANALYSIS_LONG = 256;

function halveRgb(src: Float32Array, w: number, h: number): { data: Float32Array; width: number; height: number } {
  const planes = [0, 1, 2].map((c) => {
    const p = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) p[i] = src[i * 3 + c]!;
    return halve({ data: p, width: w, height: h });
  });
  const ow = planes[0]!.width, oh = planes[0]!.height;
  const out = new Float32Array(ow * oh * 3);
  for (let i = 0; i < ow * oh; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = planes[c]!.data[i]!;
  return { data: out, width: ow, height: oh };
}

/** Distance (in pixels, 8-connected chamfer) from every pixel to the nearest pixel where `set` is 1. */
export function distanceTo(set: Uint8Array, w: number, h: number): Float32Array {
  const d = new Float32Array(w * h).fill(1e9);
  for (let i = 0; i < w * h; i++) if (set[i]) d[i] = 0;
  const D = Math.SQRT2;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    let v = d[i]!;
    if (x > 0) v = Math.min(v, d[i - 1]! + 1);
    if (y > 0) {
      v = Math.min(v, d[i - w]! + 1);
      if (x > 0) v = Math.min(v, d[i - w - 1]! + D);
      if (x < w - 1) v = Math.min(v, d[i - w + 1]! + D);
    }
    d[i] = v;
  }
  for (let y = h - 1; y >= 0; y--) for (let x = w - 1; x >= 0; x--) {
    const i = y * w + x;
    let v = d[i]!;
    if (x < w - 1) v = Math.min(v, d[i + 1]! + 1);
    if (y < h - 1) {
      v = Math.min(v, d[i + w]! + 1);
      if (x < w - 1) v = Math.min(v, d[i + w + 1]! + D);
      if (x > 0) v = Math.min(v, d[i + w - 1]! + D);
    }
    d[i] = v;
  }
  return d;
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
  const bn = blurField(num, w, h, 3, sigma), bd = blurField(den, w, h, 1, sigma);
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const dd = bd[i]!;
    if (dd > 1e-4) for (let c = 0; c < 3; c++) out[i * 3 + c] = bn[i * 3 + c]! / dd;
    else out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = -1e4; // nothing near: never the nearer colour
  }
  return out;
}

/** A least-squares gain and offset per channel from `from` to `to` over `idx`, refitted on its better-fitting half. */
function fitMap(from: Float32Array, to: Float32Array, idx: number[]): Array<[number, number]> {
  const fit = (use: number[]): Array<[number, number]> => [0, 1, 2].map((c) => {
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const i of use) { const x = from[i * 3 + c]!, y = to[i * 3 + c]!; sx += x; sy += y; sxx += x * x; sxy += x * y; }
    const n = Math.max(1, use.length);
    const vx = sxx - (sx * sx) / n;
    const g = vx > 1e-3 * n ? (sxy - (sx * sy) / n) / vx : 1;
    return [g, (sy - g * sx) / n] as [number, number];
  });
  // refitted twice on the better-fitting part, so a part of the product the upstream lost (up
  // to half of it) does not pull the map toward the set that shows through there
  let m = fit(idx);
  for (const keep of [0.7, 0.5]) {
    const cur = m;
    const res = idx.map((i) => {
      let e = 0;
      for (let c = 0; c < 3; c++) e += (to[i * 3 + c]! - (cur[c]![0] * from[i * 3 + c]! + cur[c]![1])) ** 2;
      return e;
    });
    const cut = [...res].sort((a, b) => a - b)[Math.floor(res.length * keep)] ?? Infinity;
    m = fit(idx.filter((_, k) => res[k]! <= cut));
  }
  return m;
}

export function readSilhouette(s: SilhouetteInput): SilhouetteReading {
  // analysis at about ANALYSIS_LONG pixels on the product's long side
  let level = 0;
  while (s.productLong / 2 ** (level + 1) >= ANALYSIS_LONG) level++;
  let gen = { data: s.generated, width: s.width, height: s.height };
  let prod = { data: s.product, width: s.width, height: s.height };
  let al: Plane = { data: s.alpha, width: s.width, height: s.height };
  for (let l = 0; l < level; l++) {
    gen = halveRgb(gen.data, gen.width, gen.height);
    // straight colour halves badly at the outline; only the inside's colour is read below
    prod = halveRgb(prod.data, prod.width, prod.height);
    al = halve(al);
  }
  const { width: w, height: h } = gen;
  const n = w * h;
  const long = s.productLong / 2 ** level;
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

  // the product's colours: the source's through a per-channel map fitted on the inside
  const inner: number[] = [];
  for (let i = 0; i < n; i++) if (toOutside[i]! > 2 && al.data[i]! > 0.99) inner.push(i);
  const map = fitMap(prod.data, gen.data, inner);
  const dist2 = (a: Float32Array, i: number, b: Float32Array, j: number) =>
    (a[i * 3]! - b[j * 3]!) ** 2 + (a[i * 3 + 1]! - b[j * 3 + 1]!) ** 2 + (a[i * 3 + 2]! - b[j * 3 + 2]!) ** 2;
  const expected = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) expected[i * 3 + c] = map[c]![0] * prod.data[i * 3 + c]! + map[c]![1];

  // how far the upstream's product strays from the mapped source at most, where no set colour is
  // near enough to compare with (deep inside a large product): four times the typical residual
  const residuals = inner.map((i) => Math.sqrt(dist2(gen.data, i, expected, i))).sort((a, b) => a - b);
  const tau = Math.max(40, 4 * (residuals[Math.floor(residuals.length / 2)] ?? 0));
  const G = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!A[i]) continue;
    const dp = dist2(gen.data, i, expected, i);
    const setKnown = setColour[i * 3]! >= 0;
    const ds = setKnown ? dist2(gen.data, i, setColour, i) : Infinity;
    // near the outline the analysis pixel mixes product and set: give the product the benefit there
    G[i] = toOutside[i]! <= 1.5 || (dp <= ds && (setKnown || dp <= tau * tau)) ? 1 : 0;
  }
  // outside the matte: the product's colours nearby (as the upstream painted them) against the set's
  const sure = new Uint8Array(n);
  for (let i = 0; i < n; i++) sure[i] = G[i] && toOutside[i]! > 2 ? 1 : 0;
  const productNear = normalisedBlur(gen.data, sure, w, h, band);
  for (let i = 0; i < n; i++) {
    if (A[i] || toA[i]! > band) continue;
    const dp = dist2(gen.data, i, productNear, i);
    const ds = dist2(gen.data, i, setColour, i);
    G[i] = dp < ds * 0.6 ? 1 : 0;
  }
  // only what hangs together with the product counts as its silhouette (a dark patch of the set
  // further out is not the product grown)
  const keep = new Uint8Array(n);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) if (G[i] && A[i]) { keep[i] = 1; stack.push(i); }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % w;
    for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, i - w, i + w]) {
      if (j >= 0 && j < n && G[j] && !keep[j]) { keep[j] = 1; stack.push(j); }
    }
  }
  let inter = 0, union = 0;
  for (let i = 0; i < n; i++) {
    if (A[i] && keep[i]) inter++;
    // a pixel just outside the outline may be the upstream's redrawn edge: not a change of shape
    if (A[i] || (keep[i] && toA[i]! > 1.5)) union++;
  }
  return { iou: union > 0 ? inter / union : 0 };
}
