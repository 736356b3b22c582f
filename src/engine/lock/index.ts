import { srgbToLinearLut } from '../raster/color.js';
import { rgb8, type Box, type Raster8, type Rgb8, type Rgba8 } from '../raster/types.js';
import { alignProduct, DEFAULT_RANGE, type SearchRange } from './align.js';
import { blurField } from './field.js';
import { distanceTo, readSilhouette } from './silhouette.js';
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

function lab(r: number, g: number, b: number, lin: Float32Array, out: Float64Array): void {
  const R = lin[r]!, G = lin[g]!, B = lin[b]!;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = f(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  out[0] = 116 * fy - 16; out[1] = 500 * (fx - fy); out[2] = 200 * (fy - fz);
}

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
      const e = (c: number) => Math.max(0, Math.min(255, Math.round(expected[i * 3 + c]!)));
      lab(e(0), e(1), e(2), lin, b);
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

/** Product lock: see the module comment. Throws LockError in strict mode when the product was not kept. */
export function lockProduct(input: LockInput): { frame: Rgb8; report: LockReport } {
  const { generated: gen, product, box, mode } = input;
  const aligned = alignProduct(product, box, gen, input.range ?? DEFAULT_RANGE);
  const found = aligned.score >= MIN_ALIGN_SCORE;
  const transform = found ? aligned.transform : IDENTITY;
  const region = coveredBox(transform, box, gen, Math.ceil(Math.max(box.width, box.height) * 0.2) + 4);
  const { width: rw, height: rh } = region;
  const n = rw * rh;
  const { rgb: pre, alpha } = warpProduct(product, box, transform, region);
  const straight = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = alpha[i]!;
    if (a > 1e-3) for (let c = 0; c < 3; c++) straight[i * 3 + c] = pre[i * 3 + c]! / a;
  }
  const genRegion = new Float32Array(n * 3);
  for (let y = 0; y < rh; y++) for (let x = 0; x < rw; x++) {
    const o = ((region.y + y) * gen.width + region.x + x) * gen.channels, i = (y * rw + x) * 3;
    genRegion[i] = gen.data[o]!; genRegion[i + 1] = gen.data[o + 1]!; genRegion[i + 2] = gen.data[o + 2]!;
  }
  const sil = readSilhouette({ generated: genRegion, product: straight, alpha, width: rw, height: rh, productLong: Math.max(box.width, box.height) * transform.scale });
  const inside = insideAway(alpha, rw, rh, Math.max(2, Math.round(Math.max(box.width, box.height) * 0.01)));
  // a sample of about 600 × 600 is as good a mean as every pixel
  const step = Math.max(1, Math.round(Math.max(box.width, box.height) / 600));
  const before = meanDeltaE76(gen, region, straight, inside, step);
  const report: LockReport = {
    mode,
    found,
    transform: { dx: round(transform.dx, 2), dy: round(transform.dy, 2), scale: round(transform.scale, 4), rotation: round(transform.rotation, 2) },
    score: round(aligned.score, 3),
    silhouetteIoU: round(sil.iou, 3),
    deltaE: { before: round(before, 2), after: round(before, 2) },
  };
  const frame = rgb8(Buffer.alloc(gen.width * gen.height * 3), gen.width, gen.height);
  copyRgb(gen, frame);
  if (mode === 'off') return { frame, report };
  if (mode === 'strict' && !found) {
    throw new LockError('not_found', `product lock: the product was not found in the upstream's image (edge correlation ${report.score} < ${MIN_ALIGN_SCORE})`, report);
  }
  if (mode === 'strict' && sil.iou < MIN_SILHOUETTE_IOU) {
    throw new LockError('silhouette', `product lock: the upstream changed the product's silhouette (IoU ${report.silhouetteIoU} after alignment < ${MIN_SILHOUETTE_IOU})`, report);
  }

  // the seam is harmonised in a tighter region than the silhouette was read in: the product and
  // what the ring, the light wrap and the contact shadow reach around it
  const long = Math.max(box.width, box.height) * transform.scale;
  const hb = coveredBox(transform, box, gen, Math.ceil(long * 0.08) + 4);
  const hw = hb.width, hh = hb.height, hn = hw * hh;
  const ox = hb.x - region.x, oy = hb.y - region.y;
  const cut = (src: Float32Array, ch: number): Float32Array => {
    const out = new Float32Array(hn * ch);
    for (let y = 0; y < hh; y++) out.set(src.subarray(((oy + y) * rw + ox) * ch, ((oy + y) * rw + ox + hw) * ch), y * hw * ch);
    return out;
  };
  const hAlpha = cut(alpha, 1), hPre = cut(pre, 3);
  // the set under the product: a thin ring outside our outline, where the upstream's redrawn
  // outline may show, takes the set's colour from just beyond it (along the outward normal)
  const set = clearRing(cut(genRegion, 3), hAlpha, hw, hh, Math.max(2, Math.round(long * 0.006)));
  const shadow = contactShadow(hAlpha, set, hw, hh, long);
  const wrapLight = blurField(set, hw, hh, 3, Math.max(2, long * 0.006));
  const alphaSoft = blurField(hAlpha, hw, hh, 1, Math.max(1, long * 0.003));
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < hw; x++) {
      const i = y * hw + x;
      const a = hAlpha[i]!;
      // light wrap: the set's light over the product's outer edge only
      const wrap = 0.5 * a * Math.max(0, 1 - alphaSoft[i]!);
      const sh = 1 - shadow[i]!;
      const o = ((hb.y + y) * gen.width + hb.x + x) * 3;
      for (let c = 0; c < 3; c++) {
        const px = hPre[i * 3 + c]! + set[i * 3 + c]! * sh * (1 - a);
        const v = px * (1 - wrap) + wrapLight[i * 3 + c]! * wrap;
        frame.data[o + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
  report.deltaE.after = round(meanDeltaE76(frame, region, straight, inside, step), 2);
  return { frame, report };
}

/**
 * The set with the ring of `ring` pixels around the product's outline repainted from just beyond
 * it: each ring pixel takes the colour found along the outward normal at distance ring + 1.5.
 */
function clearRing(gen: Float32Array, alpha: Float32Array, w: number, h: number, ring: number): Float32Array {
  const out = new Float32Array(gen);
  const n = w * h;
  const dist = new Float32Array(n).fill(1e9);
  for (let i = 0; i < n; i++) if (alpha[i]! >= 0.5) dist[i] = 0;
  const D = Math.SQRT2;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    let v = dist[i]!;
    if (x > 0) v = Math.min(v, dist[i - 1]! + 1);
    if (y > 0) { v = Math.min(v, dist[i - w]! + 1); if (x > 0) v = Math.min(v, dist[i - w - 1]! + D); if (x < w - 1) v = Math.min(v, dist[i - w + 1]! + D); }
    dist[i] = v;
  }
  for (let y = h - 1; y >= 0; y--) for (let x = w - 1; x >= 0; x--) {
    const i = y * w + x;
    let v = dist[i]!;
    if (x < w - 1) v = Math.min(v, dist[i + 1]! + 1);
    if (y < h - 1) { v = Math.min(v, dist[i + w]! + 1); if (x < w - 1) v = Math.min(v, dist[i + w + 1]! + D); if (x > 0) v = Math.min(v, dist[i + w - 1]! + D); }
    dist[i] = v;
  }
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    const i = y * w + x;
    const d = dist[i]!;
    if (d <= 0 || d > ring) continue;
    let nx = dist[i + 1]! - dist[i - 1]!, ny = dist[i + w]! - dist[i - w]!;
    const len = Math.hypot(nx, ny);
    if (len < 1e-6) continue;
    nx /= len; ny /= len;
    const reach = ring + 1.5 - d;
    const sx = Math.min(w - 1, Math.max(0, Math.round(x + nx * reach)));
    const sy = Math.min(h - 1, Math.max(0, Math.round(y + ny * reach)));
    const j = sy * w + sx;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = gen[j * 3 + c]!;
  }
  return out;
}

function copyRgb(src: Raster8, dst: Rgb8): void {
  if (src.channels === 3) { src.data.copy(dst.data); return; }
  const n = src.width * src.height;
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) dst.data[p * 3 + c] = src.data[p * src.channels + c]!;
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
  const luma = (i: number) => 0.2126 * set[i * 3]! + 0.7152 * set[i * 3 + 1]! + 0.0722 * set[i * 3 + 2]!;
  let near = 0, far = 0, count = 0;
  for (let x = 0; x < w; x++) {
    const b = baseRow[x]!;
    // only the columns standing on the ground: within a few pixels of the lowest row
    if (b < 0 || lowest - b > reach * 2) continue;
    const y1 = b + reach, y2 = b + reach * 5;
    if (y2 >= h) continue;
    near += luma(y1 * w + x); far += luma(y2 * w + x); count++;
  }
  if (count === 0 || far <= 1) return out;
  const painted = 1 - near / far; // how much darker the set already is under the base
  const strength = Math.max(0, 0.35 - painted);
  if (strength <= 0.01) return out;
  for (let x = 0; x < w; x++) {
    const b = baseRow[x]!;
    if (b < 0 || lowest - b > reach * 2) continue;
    for (let k = 1; k <= reach * 3 && b + k < h; k++) {
      const i = (b + k) * w + x;
      out[i] = Math.max(out[i]!, strength * Math.exp(-((k / reach) ** 2)));
    }
  }
  const soft = blurField(out, w, h, 1, reach * 0.6);
  return soft;
}
