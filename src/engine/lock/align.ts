import type { Box, Raster8, Rgba8 } from '../raster/types.js';
import { gradientMagnitude, halve, lumaAt, type Plane } from './field.js';
import { coveredBox, matrixOf, type Similarity } from './warp.js';

/**
 * Finding the product in a generated frame: the similarity transform (shift, scale, small
 * rotation) that best lays the placed product's edges over the frame's, searched around the
 * layout position, coarse to fine (to an eighth of a pixel at the finest level). Edges, not colours: the score is the normalised
 * cross-correlation of gradient magnitudes, which an upstream's relighting, hue or exposure shift
 * leaves in place (a gain and an offset on the gradients do not change it).
 */

export interface SearchRange {
  /** largest shift searched, as a share of the frame's long side */
  shift: number;
  scale: [number, number];
  /** largest rotation searched, degrees */
  rotation: number;
}

export const DEFAULT_RANGE: SearchRange = { shift: 0.06, scale: [0.88, 1.13], rotation: 4 };

export interface Alignment {
  transform: Similarity;
  /** normalised cross-correlation of the gradients at the transform, −1..1 */
  score: number;
}

/** The product's long side at the coarsest level searched exhaustively, and at the finest refined. */
const COARSE_LONG = 64;
const FINE_LONG = 400;
/** sample points scored per level at most (a regular subset beyond that) */
const MAX_POINTS = 30_000;
const MID_POINTS = 4000;
const COARSE_POINTS = 800;
/** the exhaustive grid's scale and rotation steps, in coarse pixels moved at the product's ends */
const GRID_STEP = 2;

/** Template sample points at one level: product coordinates (full size) and the centred, unit-norm gradient. */
interface Points { u: Float32Array; v: Float32Array; t: Float32Array; n: number }

/** One level: its scale (frame pixels per level pixel), the frame's gradients over `origin` (a frame box), the template's points. */
interface Level { scale: number; origin: Box; gen: Plane; points: Points }

function pyramid(p: Plane, levels: number): Plane[] {
  const out = [p];
  for (let l = 1; l <= levels; l++) out.push(halve(out[l - 1]!));
  return out;
}

/** Whether template pixel i (not on the border) is the product or a pixel around it: its outline's edge belongs to the template. */
function inSupport(a: Float32Array, i: number, w: number): boolean {
  return a[i]! > 0.01 || a[i - 1]! > 0.01 || a[i + 1]! > 0.01 || a[i - w]! > 0.01 || a[i + w]! > 0.01;
}

/** Picks every k-th point of a level's support so at most `max` remain, centres and normalises the template. */
function pointsOf(grad: Plane, alpha: Plane, scale: number, pad: number, max: number): Points {
  const { width: w, height: h } = grad;
  const a = alpha.data;
  let count = 0;
  for (let y = 1; y < h - 1; y++) for (let x = 1, i = y * w + 1; x < w - 1; x++, i++) if (inSupport(a, i, w)) count++;
  // every stride-th column of every stride-th row of the support, in row order
  const stride = Math.max(1, Math.ceil(Math.sqrt(count / max)));
  const keep = new Int32Array(count);
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    if (y % stride !== 0) continue;
    for (let x = 1, i = y * w + 1; x < w - 1; x++, i++) if (x % stride === 0 && inSupport(a, i, w)) keep[n++] = i;
  }
  return normalisedPoints(grad, keep, n, scale, pad);
}

/** The template points at `keep[0..n)`: product coordinates and the centred, unit-norm gradient. */
function normalisedPoints(grad: Plane, keep: Int32Array, n: number, scale: number, pad: number): Points {
  const w = grad.width;
  const u = new Float32Array(n), v = new Float32Array(n), t = new Float32Array(n);
  let mean = 0;
  for (let k = 0; k < n; k++) mean += grad.data[keep[k]!]!;
  mean /= Math.max(1, n);
  let norm = 0;
  for (let k = 0; k < n; k++) {
    const i = keep[k]!;
    u[k] = ((i % w) + 0.5) * scale - 0.5 - pad;
    v[k] = (Math.floor(i / w) + 0.5) * scale - 0.5 - pad;
    const c = grad.data[i]! - mean;
    t[k] = c;
    norm += c * c;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let k = 0; k < n; k++) t[k]! *= inv;
  return { u, v, t, n };
}

/** Normalised cross-correlation of the template points with the frame's gradients at `tr`. */
function score(level: Level, pts: Points, tr: Similarity, box: Box): number {
  const [a, b, tx, c, d, ty] = matrixOf(tr, box);
  const { gen, scale, origin } = level;
  const gw = gen.width, gh = gen.height, g = gen.data;
  const inv = 1 / scale;
  // frame → level pixel: x' = (x − origin.x + 0.5) / scale − 0.5, folded into the matrix
  const A = a * inv, B = b * inv, C = c * inv, D = d * inv;
  const TX = (tx - origin.x + 0.5) * inv - 0.5, TY = (ty - origin.y + 0.5) * inv - 0.5;
  const pu = pts.u, pv = pts.v, pt = pts.t;
  let st = 0, s1 = 0, s2 = 0;
  for (let k = 0; k < pts.n; k++) {
    const u = pu[k]!, v = pv[k]!;
    const x = A * u + B * v + TX;
    const y = C * u + D * v + TY;
    const x0 = Math.floor(x), y0 = Math.floor(y);
    if (x0 < 0 || y0 < 0 || x0 >= gw - 1 || y0 >= gh - 1) continue;
    const fx = x - x0, fy = y - y0, i = y0 * gw + x0;
    const top = g[i]! + (g[i + 1]! - g[i]!) * fx;
    const bot = g[i + gw]! + (g[i + gw + 1]! - g[i + gw]!) * fx;
    const val = top + (bot - top) * fy;
    st += pt[k]! * val;
    s1 += val;
    s2 += val * val;
  }
  const varG = s2 - (s1 * s1) / Math.max(1, pts.n);
  return varG > 1e-12 ? st / Math.sqrt(varG) : 0;
}

/** The normalised cross-correlation of one whole-pixel shift (`off` into the padded plane), from precomputed bilinear taps. */
function shiftedNcc(g: Float32Array, pw: number, off: number, base: Int32Array, w00: Float32Array, w10: Float32Array, w01: Float32Array, w11: Float32Array, t: Float32Array, n: number): number {
  let st = 0, s1 = 0, s2 = 0;
  for (let k = 0; k < n; k++) {
    const o = base[k]! + off;
    const val = w00[k]! * g[o]! + w10[k]! * g[o + 1]! + w01[k]! * g[o + pw]! + w11[k]! * g[o + pw + 1]!;
    st += t[k]! * val;
    s1 += val;
    s2 += val * val;
  }
  const varG = s2 - (s1 * s1) / Math.max(1, n);
  return varG > 1e-12 ? st / Math.sqrt(varG) : 0;
}

/**
 * The exhaustive search at the coarsest level: for each scale and rotation of the grid, every
 * whole-pixel shift. The bilinear weights of a point do not change with a whole-pixel shift, so
 * they are worked out once per scale and rotation, and each shift only moves an index into the
 * level's gradients, padded with zeros so that no shift reads outside them. The scores come in the
 * grid's order (see gridTransform).
 */
function exhaustive(level: Level, pts: Points, box: Box, scales: number[], rotations: number[], steps: number): Float32Array {
  const { gen, scale } = level;
  const pad = steps + 2;
  const pw = gen.width + 2 * pad, ph = gen.height + 2 * pad;
  const g = new Float32Array(pw * ph);
  for (let y = 0; y < gen.height; y++) g.set(gen.data.subarray(y * gen.width, (y + 1) * gen.width), (y + pad) * pw + pad);
  const n = pts.n;
  const base = new Int32Array(n), w00 = new Float32Array(n), w10 = new Float32Array(n), w01 = new Float32Array(n), w11 = new Float32Array(n);
  const side = 2 * steps + 1;
  const scores = new Float32Array(scales.length * rotations.length * side * side);
  let q = 0;
  for (const s of scales) {
    for (const r of rotations) {
      const [a, b, tx, c, d, ty] = matrixOf({ dx: 0, dy: 0, scale: s, rotation: r }, box);
      const inv = 1 / scale;
      const A = a * inv, B = b * inv, C = c * inv, D = d * inv;
      const TX = (tx - level.origin.x + 0.5) * inv - 0.5 + pad, TY = (ty - level.origin.y + 0.5) * inv - 0.5 + pad;
      bilinearTaps(pts, A, B, C, D, TX, TY, steps, pw, ph, base, w00, w10, w01, w11);
      for (let j = -steps; j <= steps; j++) {
        for (let i = -steps; i <= steps; i++) scores[q++] = shiftedNcc(g, pw, j * pw + i, base, w00, w10, w01, w11, pts.t, n);
      }
    }
  }
  return scores;
}

/**
 * Each point's index and bilinear weights in the padded plane (pw × ph) at the level matrix
 * (A, B, TX; C, D, TY); a point that no shift of up to `steps` brings inside reads zeros.
 */
function bilinearTaps(pts: Points, A: number, B: number, C: number, D: number, TX: number, TY: number, steps: number, pw: number, ph: number, base: Int32Array, w00: Float32Array, w10: Float32Array, w01: Float32Array, w11: Float32Array): void {
  const pad = steps + 2;
  for (let k = 0; k < pts.n; k++) {
    const u = pts.u[k]!, v = pts.v[k]!;
    const x = A * u + B * v + TX, y = C * u + D * v + TY;
    const x0 = Math.floor(x), y0 = Math.floor(y);
    // a point no shift brings inside the padded plane reads zeros: its weights are zero
    if (x0 < steps || y0 < steps || x0 >= pw - steps - 1 || y0 >= ph - steps - 1) {
      base[k] = pad * pw + pad; w00[k] = w10[k] = w01[k] = w11[k] = 0;
      continue;
    }
    const fx = x - x0, fy = y - y0;
    base[k] = y0 * pw + x0;
    w00[k] = (1 - fx) * (1 - fy); w10[k] = fx * (1 - fy); w01[k] = (1 - fx) * fy; w11[k] = fx * fy;
  }
}

/** The exhaustive grid's k-th transform (scales outermost, then rotations, then rows and columns of shifts). */
function gridTransform(k: number, scales: number[], rotations: number[], steps: number, scale: number): Similarity {
  const side = 2 * steps + 1;
  const q = k % (side * side), sr = (k - q) / (side * side);
  const r = sr % rotations.length, s = (sr - r) / rotations.length;
  return { dx: ((q % side) - steps) * scale, dy: (Math.floor(q / side) - steps) * scale, scale: scales[s]!, rotation: rotations[r]! };
}

/** The grid's shift at index k, in frame pixels, into out[0..1]. */
function gridShift(k: number, steps: number, scale: number, out: Float64Array): void {
  const side = 2 * steps + 1;
  const q = k % (side * side);
  out[0] = ((q % side) - steps) * scale; out[1] = (Math.floor(q / side) - steps) * scale;
}

/** The `count` best grid candidates whose shifts are at least `apart` frame pixels from each other's. */
function bestDistinct(scores: Float32Array, steps: number, scale: number, apart: number, count: number): Int32Array {
  const picked = new Int32Array(count);
  const px = new Float64Array(count), py = new Float64Array(count);
  const c = new Float64Array(2);
  let m = 0;
  for (; m < count; m++) {
    let best = -1;
    for (let k = 0; k < scores.length; k++) {
      if (best >= 0 && scores[k]! <= scores[best]!) continue;
      gridShift(k, steps, scale, c);
      let near = false;
      for (let j = 0; j < m; j++) if (Math.hypot(px[j]! - c[0]!, py[j]! - c[1]!) < apart) { near = true; break; }
      if (!near) best = k;
    }
    if (best < 0) break;
    picked[m] = best;
    gridShift(best, steps, scale, c);
    px[m] = c[0]!; py[m] = c[1]!;
  }
  return picked.subarray(0, m);
}

/** The frame region the search can reach: the product box grown by the largest shift, scale and rotation. */
export function searchRegion(box: Box, frame: { width: number; height: number }, range: SearchRange): Box {
  const long = Math.max(frame.width, frame.height);
  const half = (Math.hypot(box.width, box.height) / 2) * range.scale[1];
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const reach = half + range.shift * long + 8;
  const x0 = Math.max(0, Math.floor(cx - reach)), y0 = Math.max(0, Math.floor(cy - reach));
  const x1 = Math.min(frame.width, Math.ceil(cx + reach)), y1 = Math.min(frame.height, Math.ceil(cy + reach));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The frame's gradients at 1/f over `box` (grown to whole blocks and clamped to the frame). */
function genLevel(generated: Raster8, box: Box, f: number): { origin: Box; gen: Plane } {
  const x0 = Math.max(0, box.x), y0 = Math.max(0, box.y);
  const x1 = Math.min(generated.width, box.x + box.width), y1 = Math.min(generated.height, box.y + box.height);
  const origin = { x: x0, y: y0, width: Math.floor((x1 - x0) / f) * f, height: Math.floor((y1 - y0) / f) * f };
  return { origin, gen: gradientMagnitude(lumaAt(generated, origin, f)) };
}

/** The template: the product's luma over mid grey (0..1) and its alpha, padded by `pad` so its outline's edges are inside it. */
function templateOf(product: Rgba8, pad: number): { luma: Plane; alpha: Plane } {
  const tw = product.width + 2 * pad, th = product.height + 2 * pad;
  const tl = new Float32Array(tw * th).fill(0.5);
  const ta = new Float32Array(tw * th);
  const d = product.data;
  for (let y = 0; y < product.height; y++) {
    for (let x = 0; x < product.width; x++) {
      const o = (y * product.width + x) * 4;
      const al = d[o + 3]! / 255;
      const l = (0.2126 * d[o]! + 0.7152 * d[o + 1]! + 0.0722 * d[o + 2]!) / 255;
      const i = (y + pad) * tw + x + pad;
      tl[i] = al * l + (1 - al) * 0.5;
      ta[i] = al;
    }
  }
  return { luma: { data: tl, width: tw, height: th }, alpha: { data: ta, width: tw, height: th } };
}

/** The template's levels (luma, alpha, and the luma's gradients worked out once per level when first asked for). */
class TemplatePyramid {
  private readonly luma: Plane[];
  private readonly alpha: Plane[];
  private readonly grads: Array<Plane | undefined>;
  constructor(product: Rgba8, readonly pad: number, levels: number) {
    const t = templateOf(product, pad);
    this.luma = pyramid(t.luma, levels);
    this.alpha = pyramid(t.alpha, levels);
    this.grads = this.luma.map(() => undefined);
  }

  /** The template's points at level l, at most `max` of them. */
  points(l: number, max: number): Points {
    const grad = this.grads[l] ?? gradientMagnitude(this.luma[l]!);
    this.grads[l] = grad;
    return pointsOf(grad, this.alpha[l]!, 2 ** l, this.pad, max);
  }
}

function level(scale: number, at: { origin: Box; gen: Plane }, points: Points): Level {
  return { scale, origin: at.origin, gen: at.gen, points };
}

/**
 * Pattern search: moves of `step` frame pixels (and the scale and rotation that move the product's
 * ends, `half` pixels from its centre, as far) while one scores better, then half the step, down to
 * `minStep`.
 */
function refine(lv: Level, start: Similarity, minStep: number, box: Box, half: number): Alignment {
  let cur = start;
  let curScore = score(lv, lv.points, cur, box);
  // the level above left it within half a pixel of this level
  let step = lv.scale / 2;
  const tries: Similarity[] = [];
  while (step >= minStep) {
    let moved = false;
    const ds = step / half;
    const dr = (step / half) * (180 / Math.PI);
    const { dx, dy, scale: s, rotation: r } = cur;
    tries.length = 0;
    tries.push(
      { dx: dx + step, dy, scale: s, rotation: r }, { dx: dx - step, dy, scale: s, rotation: r },
      { dx, dy: dy + step, scale: s, rotation: r }, { dx, dy: dy - step, scale: s, rotation: r },
      { dx, dy, scale: s + ds, rotation: r }, { dx, dy, scale: s - ds, rotation: r },
      { dx, dy, scale: s, rotation: r + dr }, { dx, dy, scale: s, rotation: r - dr },
    );
    for (const tr of tries) {
      const sc = score(lv, lv.points, tr, box);
      if (sc > curScore) { cur = tr; curScore = sc; moved = true; }
    }
    if (!moved) step /= 2;
  }
  return { transform: cur, score: curScore };
}

/** The frame box the transforms in `cands` cover, with a margin. */
function around(cands: Alignment[], box: Box, frame: { width: number; height: number }, margin: number): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const c of cands) {
    const b = coveredBox(c.transform, box, frame, margin);
    x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y); x1 = Math.max(x1, b.x + b.width); y1 = Math.max(y1, b.y + b.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function best(cands: Alignment[]): Alignment {
  let b = cands[0]!;
  for (const c of cands) if (c.score > b.score) b = c;
  return b;
}

/**
 * Where the upstream put the product: `product` is the placed cut-out (RGBA at its layout size),
 * `box` its layout position, `generated` the upstream's frame at the layout's size.
 *
 * Coarse to fine: the whole search region is read only at the coarsest level (the product about
 * 64 px long), searched exhaustively; the three best distinct candidates are refined level by level
 * over the frame around them only, and the best of them alone at the finest level.
 */
export function alignProduct(product: Rgba8, box: Box, generated: Raster8, range: SearchRange = DEFAULT_RANGE): Alignment {
  const long = Math.max(box.width, box.height);
  const coarse = Math.max(0, Math.floor(Math.log2(long / COARSE_LONG)));
  const fine = Math.min(coarse, Math.max(0, Math.floor(Math.log2(long / FINE_LONG))));
  const region = searchRegion(box, generated, range);
  const template = new TemplatePyramid(product, 2 ** (coarse + 1), coarse);

  // exhaustive at the coarsest level: a grid of scales and rotations, every whole-pixel shift
  const topScale = 2 ** coarse;
  const topGen = genLevel(generated, region, topScale);
  const top = level(topScale, topGen, template.points(coarse, COARSE_POINTS));
  const frameLong = Math.max(generated.width, generated.height);
  const steps = Math.ceil((range.shift * frameLong) / topScale);
  const half = long / 2;
  const scales: number[] = [], rotations: number[] = [];
  // grid steps that move the product's ends by about GRID_STEP coarse pixels (the refinement at the
  // coarsest level finds the scale and rotation between them), the range's ends included
  const nS = Math.max(1, Math.ceil((range.scale[1] - range.scale[0]) / ((GRID_STEP * topScale) / half)));
  for (let k = 0; k <= nS; k++) scales.push(range.scale[0] + ((range.scale[1] - range.scale[0]) * k) / nS);
  const nR = Math.max(1, Math.ceil((2 * range.rotation) / ((GRID_STEP * topScale) / half * (180 / Math.PI))));
  for (let k = 0; k <= nR; k++) rotations.push(-range.rotation + (2 * range.rotation * k) / nR);
  const scores = exhaustive(top, top.points, box, scales, rotations, steps);
  // the three best candidates whose shifts are at least two coarse pixels apart
  const seeds = bestDistinct(scores, steps, topScale, 2 * topScale, 3);

  // the finer levels read the frame only around the seeds (each level's own refinement moves a
  // seed by a few of its pixels at most)
  const topRefine = level(topScale, topGen, template.points(coarse, coarse === fine ? MAX_POINTS : MID_POINTS));
  let cands: Alignment[] = [];
  for (const k of seeds) cands.push(refine(topRefine, gridTransform(k, scales, rotations, steps, topScale), coarse === fine ? topScale / 16 : topScale / 4, box, half));
  for (let l = coarse - 1; l >= fine; l--) {
    const scale = 2 ** l;
    // the best seed alone at the finest level
    if (l === fine) cands = [best(cands)];
    const lv = level(scale, genLevel(generated, around(cands, box, generated, 12 * scale + 4), scale), template.points(l, l === fine ? MAX_POINTS : MID_POINTS));
    const next: Alignment[] = [];
    for (const c of cands) next.push(refine(lv, c.transform, l === fine ? scale / 8 : scale / 4, box, half));
    cands = next;
  }
  return best(cands);
}
