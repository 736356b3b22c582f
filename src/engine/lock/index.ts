import { srgbToLinearLut } from '../raster/color.js';
import { rgb8, type Box, type Raster8, type Rgb8, type Rgba8 } from '../raster/types.js';
import { alignProduct, DEFAULT_RANGE, type SearchRange } from './align.js';
import { expandSmall, readSmall, smallBlur, smoothField, type SmallField } from './field.js';
import { analysisLevel, chamfer, distanceTo, readSilhouette } from './silhouette.js';
import { coveredBox, IDENTITY, warpProduct, type Similarity } from './warp.js';

export { alignProduct, DEFAULT_RANGE } from './align.js';
export { applySimilarity, IDENTITY, transformDistance, warpProduct, type Similarity } from './warp.js';

/**
 * Product lock: a generative upstream painted a scene around the layout it was sent, and drifted
 * the product a little while at it. The lock finds where it put the product (align.ts), checks it
 * kept the product's silhouette (silhouette.ts), and pastes the original pixels back through the
 * matte at that transform — the scene was painted around the drifted product, so its shadows and
 * reflections fit there, not at the layout position. Only the seam is harmonised: the upstream's
 * own outline where it shows beyond ours is painted over with the set, the set's light wraps a
 * pixel or two into the product's edge, and a contact shadow is added where the set has none.
 *
 *   strict  paste back; refuse (LockError) when the silhouette IoU after alignment is under 0.85
 *           or the product cannot be found
 *   blend   paste back, never refuse (at the layout position when the product cannot be found)
 *   off     the upstream's pixels as they are; the figures are still measured and reported
 */

export type LockMode = 'strict' | 'blend' | 'off';
export const LOCK_MODES: readonly LockMode[] = ['strict', 'blend', 'off'];

/** strict mode's threshold on the silhouette IoU after alignment */
export const MIN_SILHOUETTE_IOU = 0.85;
/** below this edge correlation the product is taken as not found */
export const MIN_ALIGN_SCORE = 0.35;

export interface LockReport {
  mode: LockMode;
  /** whether the product was found in the upstream's frame */
  found: boolean;
  /** where it was found: shift of its centre (output px), scale, rotation (degrees) against the layout */
  transform: Similarity;
  /** edge correlation at the transform, −1..1 */
  score: number;
  silhouetteIoU: number;
  /** mean ΔE76 (CIELAB) of the product's inside, away from its edge, against the source at the found transform */
  deltaE: { before: number; after: number };
}

export class LockError extends Error {
  constructor(readonly reason: 'silhouette' | 'not_found', message: string, readonly report: LockReport) {
    super(message);
    this.name = 'LockError';
  }
}

export interface LockInput {
  /** the upstream's frame, already at the layout's size */
  generated: Raster8;
  /** the cut-out product at its layout size (RGBA, alpha = matte) */
  product: Rgba8;
  /** its layout position */
  box: Box;
  mode: LockMode;
  range?: SearchRange;
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** CIELAB's f(t) for t in 0..1 */
function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116;
}

function lab(r: number, g: number, b: number, lin: Float32Array, out: Float64Array): void {
  const R = lin[r]!, G = lin[g]!, B = lin[b]!;
  const fx = labF((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = labF(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = labF((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  out[0] = 116 * fy - 16; out[1] = 500 * (fx - fy); out[2] = 200 * (fy - fz);
}

const byte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * Mean ΔE76 between an 8-bit frame's region and the expected straight colour, over `inside`
 * (region-sized 0/1). Exported for the tests.
 */
export function meanDeltaE76(frame: Raster8, region: Box, expected: Float32Array, inside: Uint8Array, step = 1): number {
  const lin = srgbToLinearLut();
  const a = new Float64Array(3), b = new Float64Array(3);
  let sum = 0, count = 0;
  for (let y = 0; y < region.height; y += step) {
    for (let x = 0; x < region.width; x += step) {
      const i = y * region.width + x;
      if (!inside[i]) continue;
      const o = ((region.y + y) * frame.width + region.x + x) * frame.channels;
      lab(frame.data[o]!, frame.data[o + 1]!, frame.data[o + 2]!, lin, a);
      lab(byte(expected[i * 3]!), byte(expected[i * 3 + 1]!), byte(expected[i * 3 + 2]!), lin, b);
      sum += Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}

/** The product's inside away from its edge: alpha 1 and more than `margin` pixels from any pixel that is not. */
export function insideAway(alpha: Float32Array, w: number, h: number, margin: number): Uint8Array {
  const notOpaque = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) notOpaque[i] = alpha[i]! >= 0.999 ? 0 : 1;
  // the region's border counts as outside
  for (let x = 0; x < w; x++) { notOpaque[x] = 1; notOpaque[(h - 1) * w + x] = 1; }
  for (let y = 0; y < h; y++) { notOpaque[y * w] = 1; notOpaque[y * w + w - 1] = 1; }
  const d = distanceTo(notOpaque, w, h);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) out[i] = d[i]! > margin ? 1 : 0;
  return out;
}

/**
 * The silhouette check's inputs: the frame's `region` and the warped product (premultiplied, over
 * `hb`, a box inside the region) each shrunk by 2^level by block means, on the same grid.
 */
function silhouetteInputs(gen: Raster8, region: Box, pre: Float32Array, alpha: Float32Array, hb: Box, level: number): { generated: Float32Array; product: Float32Array; alpha: Float32Array; width: number; height: number } {
  const f = 2 ** level;
  const w = Math.max(1, Math.floor(region.width / f)), h = Math.max(1, Math.floor(region.height / f));
  const n = w * h;
  const p = new Float32Array(n * 3), a = new Float32Array(n);
  shrinkProduct(pre, alpha, hb, hb.x - region.x, hb.y - region.y, level, w, h, p, a);
  return { generated: shrinkFrame(gen, region, level, w, h), product: p, alpha: a, width: w, height: h };
}

/** The frame's region shrunk by 2^level by block means (w × h blocks), RGB. */
function shrinkFrame(gen: Raster8, region: Box, level: number, w: number, h: number): Float32Array {
  const f = 2 ** level;
  const g = new Float32Array(w * h * 3);
  const ch = gen.channels, d = gen.data;
  // each block row's f pixels summed in locals, added to the block once per frame row
  for (let y = 0; y < h * f; y++) {
    let q = (y >> level) * w * 3;
    let o = ((region.y + y) * gen.width + region.x) * ch;
    for (let X = 0; X < w; X++, q += 3) {
      let r = 0, gg = 0, b = 0;
      for (let x = 0; x < f; x++, o += ch) { r += d[o]!; gg += d[o + 1]!; b += d[o + 2]!; }
      g[q]! += r; g[q + 1]! += gg; g[q + 2]! += b;
    }
  }
  const inv = 1 / (f * f);
  for (let q = 0; q < w * h * 3; q++) g[q]! *= inv;
  return g;
}

/**
 * The warped product (premultiplied `pre` and `alpha` over `hb`, whose corner is at (ox, oy) in
 * the region) shrunk onto the region's w × h grid of 2^level blocks: alpha the block mean, colour
 * the alpha-weighted (straight) mean, into p and a.
 */
function shrinkProduct(pre: Float32Array, alpha: Float32Array, hb: Box, ox: number, oy: number, level: number, w: number, h: number, p: Float32Array, a: Float32Array): void {
  for (let y = 0; y < hb.height; y++) {
    const Y = (oy + y) >> level;
    if (Y >= h) break;
    // a block's pixels along the row summed in locals, added to it once
    let cur = -1, sa = 0, sr = 0, sg = 0, sb = 0;
    for (let x = 0, i = y * hb.width; x <= hb.width; x++, i++) {
      const X = x < hb.width ? (ox + x) >> level : w;
      if (X !== cur) {
        if (cur >= 0 && sa > 0) {
          const q = Y * w + cur;
          a[q]! += sa; p[q * 3]! += sr; p[q * 3 + 1]! += sg; p[q * 3 + 2]! += sb;
        }
        if (X >= w) break;
        cur = X; sa = sr = sg = sb = 0;
      }
      const A = alpha[i]!;
      if (A === 0) continue;
      sa += A; sr += pre[i * 3]!; sg += pre[i * 3 + 1]!; sb += pre[i * 3 + 2]!;
    }
  }
  // straight colour of the block means (alpha-weighted: the product's own colour at the outline)
  const inv = 1 / 2 ** (2 * level);
  for (let q = 0; q < w * h; q++) {
    const A = a[q]!;
    if (A > 1e-6) { p[q * 3]! /= A; p[q * 3 + 1]! /= A; p[q * 3 + 2]! /= A; }
    a[q] = A * inv;
  }
}

/** The source's straight colour at the ΔE samples (every `step`-th pixel of every `step`-th row that `inside` marks), 0 elsewhere. */
function straightAt(pre: Float32Array, alpha: Float32Array, inside: Uint8Array, w: number, h: number, step: number): Float32Array {
  const straight = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y += step) {
    for (let x = 0; x < w; x += step) {
      const i = y * w + x;
      if (!inside[i]) continue;
      const k = 1 / alpha[i]!;
      straight[i * 3] = pre[i * 3]! * k; straight[i * 3 + 1] = pre[i * 3 + 1]! * k; straight[i * 3 + 2] = pre[i * 3 + 2]! * k;
    }
  }
  return straight;
}

/**
 * The product pasted over the set in `frame` over `hb`: the premultiplied product over the set
 * (the ring repainted, darkened by the contact shadow), and over the product's outer edge the set's
 * light (wrapLight) wrapped in where the soft matte falls off.
 */
function composite(frame: Rgb8, hb: Box, pre: Float32Array, alpha: Float32Array, set: Float32Array, shadow: Float32Array, alphaSoft: Float64Array, wrapLight: SmallField): void {
  const hw = hb.width, hh = hb.height, fd = frame.data;
  for (let y = 0; y < hh; y++) {
    let o = ((hb.y + y) * frame.width + hb.x) * 3;
    for (let x = 0; x < hw; x++, o += 3) {
      const i = y * hw + x;
      const a = alpha[i]!;
      const sh = 1 - shadow[i]!;
      // untouched: the set where neither the product, the ring nor the shadow reach (frame has it)
      if (a === 0 && sh === 1 && set[i * 3] === fd[o] && set[i * 3 + 1] === fd[o + 1] && set[i * 3 + 2] === fd[o + 2]) continue;
      // light wrap: the set's light over the product's outer edge only
      const wrap = a > 0 ? 0.5 * a * Math.max(0, 1 - alphaSoft[i]!) : 0;
      for (let c = 0; c < 3; c++) {
        const px = pre[i * 3 + c]! + set[i * 3 + c]! * sh * (1 - a);
        fd[o + c] = byte(wrap > 0 ? px * (1 - wrap) + readSmall(wrapLight, x, y, c) * wrap : px);
      }
    }
  }
}

/** Product lock: see the module comment. Throws LockError in strict mode when the product was not kept. */
export function lockProduct(input: LockInput): { frame: Rgb8; report: LockReport } {
  const { generated: gen, product, box, mode } = input;
  const aligned = alignProduct(product, box, gen, input.range ?? DEFAULT_RANGE);
  const found = aligned.score >= MIN_ALIGN_SCORE;
  const transform = found ? aligned.transform : IDENTITY;
  const boxLong = Math.max(box.width, box.height);
  const long = boxLong * transform.scale;
  // the silhouette is read over a wider region than the product is pasted and harmonised in: the
  // product and what the ring, the light wrap and the contact shadow reach around it
  const region = coveredBox(transform, box, gen, Math.ceil(boxLong * 0.2) + 4);
  const hb = coveredBox(transform, box, gen, Math.ceil(long * 0.08) + 4);
  const hw = hb.width, hh = hb.height;
  const { rgb: pre, alpha } = warpProduct(product, box, transform, hb);

  const level = analysisLevel(long);
  const sil = readSilhouette({ ...silhouetteInputs(gen, region, pre, alpha, hb, level), productLong: long / 2 ** level });
  const inside = insideAway(alpha, hw, hh, Math.max(2, Math.round(boxLong * 0.01)));
  // a sample of about 300 × 300 is as good a mean as every pixel; the source's straight colour
  // is needed at those samples only
  const step = Math.max(1, Math.round(boxLong / 300));
  const straight = straightAt(pre, alpha, inside, hw, hh, step);
  const before = meanDeltaE76(gen, hb, straight, inside, step);
  const report: LockReport = {
    mode,
    found,
    transform: { dx: round(transform.dx, 2), dy: round(transform.dy, 2), scale: round(transform.scale, 4), rotation: round(transform.rotation, 2) },
    score: round(aligned.score, 3),
    silhouetteIoU: round(sil.iou, 3),
    deltaE: { before: round(before, 2), after: round(before, 2) },
  };
  // every byte is written by the copy: no zero fill first
  const frame = rgb8(Buffer.allocUnsafe(gen.width * gen.height * 3), gen.width, gen.height);
  copyRgb(gen, frame);
  if (mode === 'off') return { frame, report };
  if (mode === 'strict' && !found) {
    throw new LockError('not_found', `product lock: the product was not found in the upstream's image (edge correlation ${report.score} < ${MIN_ALIGN_SCORE})`, report);
  }
  if (mode === 'strict' && sil.iou < MIN_SILHOUETTE_IOU) {
    throw new LockError('silhouette', `product lock: the upstream changed the product's silhouette (IoU ${report.silhouetteIoU} after alignment < ${MIN_SILHOUETTE_IOU})`, report);
  }

  // the set under the product: a thin ring outside our outline, where the upstream's redrawn
  // outline may show, takes the set's colour from just beyond it (along the outward normal)
  const set = clearRing(frame, hb, alpha, Math.max(2, Math.round(long * 0.006)));
  const shadow = contactShadow(alpha, set, hw, hh, long);
  // the two wide blurs are smooth: worked out on a shrunk copy and read back bilinearly
  // the wrap's light is read on the product's outer edge only, and is a blur of the set: kept at
  // 1.5 shrunk pixels wide, it is worked out at a quarter of the pixels from 1K up
  const wrapLight = smallBlur(set, hw, hh, 3, Math.max(2, long * 0.006), 1.5);
  const alphaSoft = expandSmall(smallBlur(alpha, hw, hh, 1, Math.max(1, long * 0.003)), hw, hh, 0);
  composite(frame, hb, pre, alpha, set, shadow, alphaSoft, wrapLight);
  report.deltaE.after = round(meanDeltaE76(frame, hb, straight, inside, step), 2);
  return { frame, report };
}

/**
 * The set over `hb` (the frame's RGB there, as floats) with the ring of `ring` pixels around the
 * product's outline repainted from just beyond it: each ring pixel takes the colour found along
 * the outward normal at distance ring + 1.5.
 */
function clearRing(frame: Rgb8, hb: Box, alpha: Float32Array, ring: number): Float32Array {
  const w = hb.width, h = hb.height;
  const out = regionRgb(frame, hb);
  // the distances are needed up to the ring and a pixel beyond (the normal's differences) only:
  // they are worked out in each row's band of columns within R of the product in rows within R of
  // it (every pixel that near, and every shortest chamfer path to it, lies in the band); beyond it
  // they stay "far"
  const R = ring + 3;
  const dist = new Float32Array(w * h);
  const fa = new Int32Array(h), la = new Int32Array(h);
  productRows(alpha, w, h, dist, fa, la);
  const lo = new Int32Array(h).fill(w), hi = new Int32Array(h).fill(-1);
  for (let y = 0; y < h; y++) {
    if (la[y]! < 0) continue;
    for (let k = Math.max(0, y - R); k <= Math.min(h - 1, y + R); k++) {
      lo[k] = Math.min(lo[k]!, Math.max(0, fa[y]! - R));
      hi[k] = Math.max(hi[k]!, Math.min(w - 1, la[y]! + R));
    }
  }
  chamfer(dist, w, h, lo, hi);
  repaintRing(out, frame, hb, dist, lo, hi, ring);
  return out;
}

/** The frame's RGB over `hb`, as floats. */
function regionRgb(frame: Rgb8, hb: Box): Float32Array {
  const w = hb.width, h = hb.height;
  const out = new Float32Array(w * h * 3);
  const d = frame.data;
  for (let y = 0; y < h; y++) {
    const o = ((hb.y + y) * frame.width + hb.x) * 3;
    for (let k = 0, q = y * w * 3; k < w * 3; k++, q++) out[q] = d[o + k]!;
  }
  return out;
}

/**
 * The chamfer's start over a w × h region: 0 where alpha ≥ 0.5 (the product), far elsewhere, into
 * `dist`; each row's first and last product column into fa / la (w and −1 where the row has none).
 */
function productRows(alpha: Float32Array, w: number, h: number, dist: Float32Array, fa: Int32Array, la: Int32Array): void {
  for (let y = 0; y < h; y++) {
    let first = w, last = -1;
    for (let x = 0, i = y * w; x < w; x++, i++) {
      if (alpha[i]! < 0.5) { dist[i] = 1e9; continue; }
      dist[i] = 0;
      if (x < first) first = x;
      last = x;
    }
    fa[y] = first; la[y] = last;
  }
}

/** Each ring pixel (0 < dist ≤ ring) of `out` takes the frame's colour along the outward normal at distance ring + 1.5. */
function repaintRing(out: Float32Array, frame: Rgb8, hb: Box, dist: Float32Array, lo: Int32Array, hi: Int32Array, ring: number): void {
  const w = hb.width, h = hb.height, d = frame.data;
  for (let y = 1; y < h - 1; y++) for (let x = Math.max(1, lo[y]!); x <= Math.min(w - 2, hi[y]!); x++) {
    const i = y * w + x;
    const dd = dist[i]!;
    if (dd <= 0 || dd > ring) continue;
    let nx = dist[i + 1]! - dist[i - 1]!, ny = dist[i + w]! - dist[i - w]!;
    const len = Math.hypot(nx, ny);
    if (len < 1e-6) continue;
    nx /= len; ny /= len;
    const reach = ring + 1.5 - dd;
    const sx = Math.min(w - 1, Math.max(0, Math.round(x + nx * reach)));
    const sy = Math.min(h - 1, Math.max(0, Math.round(y + ny * reach)));
    const o = ((hb.y + sy) * frame.width + hb.x + sx) * 3;
    out[i * 3] = d[o]!; out[i * 3 + 1] = d[o + 1]!; out[i * 3 + 2] = d[o + 2]!;
  }
}

function copyRgb(src: Raster8, dst: Rgb8): void {
  if (src.channels === 3) { src.data.copy(dst.data); return; }
  const n = src.width * src.height;
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) dst.data[p * 3 + c] = src.data[p * src.channels + c]!;
}

function lumaOfSet(set: Float32Array, i: number): number {
  return 0.2126 * set[i * 3]! + 0.7152 * set[i * 3 + 1]! + 0.0722 * set[i * 3 + 2]!;
}

/**
 * A contact shadow under the product's base, as strong as the set leaves room for: where the set
 * is already darker just under the base than a little below it (the upstream painted a shadow),
 * little or nothing is added. Returns a 0..1 darkening per region pixel.
 */
function contactShadow(alpha: Float32Array, set: Float32Array, w: number, h: number, long: number): Float32Array {
  const out = new Float32Array(w * h);
  // the base: for each column, the lowest row the product covers
  const baseRow = new Int32Array(w).fill(-1);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (alpha[y * w + x]! >= 0.5) baseRow[x] = y;
  let lowest = -1;
  for (let x = 0; x < w; x++) lowest = Math.max(lowest, baseRow[x]!);
  if (lowest < 0) return out;
  const reach = Math.max(2, Math.round(long * 0.01));
  let near = 0, far = 0, count = 0;
  for (let x = 0; x < w; x++) {
    const b = baseRow[x]!;
    // only the columns standing on the ground: within a few pixels of the lowest row
    if (b < 0 || lowest - b > reach * 2) continue;
    const y1 = b + reach, y2 = b + reach * 5;
    if (y2 >= h) continue;
    near += lumaOfSet(set, y1 * w + x); far += lumaOfSet(set, y2 * w + x); count++;
  }
  if (count === 0 || far <= 1) return out;
  const painted = 1 - near / far; // how much darker the set already is under the base
  const strength = Math.max(0, 0.35 - painted);
  if (strength <= 0.01) return out;
  let highest = lowest;
  for (let x = 0; x < w; x++) {
    const b = baseRow[x]!;
    if (b < 0 || lowest - b > reach * 2) continue;
    highest = Math.min(highest, b);
    for (let k = 1; k <= reach * 3 && b + k < h; k++) {
      const i = (b + k) * w + x;
      out[i] = Math.max(out[i]!, strength * Math.exp(-((k / reach) ** 2)));
    }
  }
  // blurred in the strip of rows the shadow and its blur reach only
  const y0 = Math.max(0, highest + 1 - 2 * reach), y1 = Math.min(h, lowest + 5 * reach + 1);
  out.set(smoothField(out.subarray(y0 * w, y1 * w), w, y1 - y0, 1, reach * 0.6), y0 * w);
  return out;
}
