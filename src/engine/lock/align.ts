import type { Box, Raster8, Rgba8 } from '../raster/types.js';
import { gradientMagnitude, halve, lumaOf, type Plane } from './field.js';
import { matrixOf, type Similarity } from './warp.js';

/**
 * Finding the product in a generated frame: the similarity transform (shift, scale, small
 * rotation) that best lays the placed product's edges over the frame's, searched around the
 * layout position, coarse to fine. Edges, not colours: the score is the normalised
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

/** Template sample points at one level: product coordinates (full size) and the centred, unit-norm gradient. */
interface Points { u: Float32Array; v: Float32Array; t: Float32Array; n: number }

interface Level { scale: number; gen: Plane; points: Points; coarse: Points }

function pyramid(p: Plane, levels: number): Plane[] {
  const out = [p];
  for (let l = 1; l <= levels; l++) out.push(halve(out[l - 1]!));
  return out;
}

/** Picks every k-th point of a level's support so at most `max` remain, centres and normalises the template. */
function pointsOf(grad: Plane, alpha: Plane, scale: number, pad: number, max: number): Points {
  const { width: w, height: h } = grad;
  const support: number[] = [];
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const a = alpha.data;
      // the product and a pixel around it: its outline's edge belongs to the template
      if (a[i]! > 0.01 || a[i - 1]! > 0.01 || a[i + 1]! > 0.01 || a[i - w]! > 0.01 || a[i + w]! > 0.01) support.push(i);
    }
  }
  const stride = Math.max(1, Math.ceil(Math.sqrt(support.length / max)));
  const keep = stride === 1 ? support : support.filter((i) => (i % w) % stride === 0 && Math.floor(i / w) % stride === 0);
  const n = keep.length;
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
function score(level: Level, pts: Points, tr: Similarity, box: Box, region: Box): number {
  const [a, b, tx, c, d, ty] = matrixOf(tr, box);
  const { gen, scale } = level;
  const gw = gen.width, gh = gen.height, g = gen.data;
  const inv = 1 / scale;
  let st = 0, s1 = 0, s2 = 0;
  for (let k = 0; k < pts.n; k++) {
    const u = pts.u[k]!, v = pts.v[k]!;
    const x = (a * u + b * v + tx - region.x + 0.5) * inv - 0.5;
    const y = (c * u + d * v + ty - region.y + 0.5) * inv - 0.5;
    const x0 = Math.floor(x), y0 = Math.floor(y);
    let val = 0;
    if (x0 >= 0 && y0 >= 0 && x0 < gw - 1 && y0 < gh - 1) {
      const fx = x - x0, fy = y - y0, i = y0 * gw + x0;
      const top = g[i]! + (g[i + 1]! - g[i]!) * fx;
      const bot = g[i + gw]! + (g[i + gw + 1]! - g[i + gw]!) * fx;
      val = top + (bot - top) * fy;
    }
    st += pts.t[k]! * val;
    s1 += val;
    s2 += val * val;
  }
  const varG = s2 - (s1 * s1) / Math.max(1, pts.n);
  return varG > 1e-12 ? st / Math.sqrt(varG) : 0;
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

/**
 * Where the upstream put the product: `product` is the placed cut-out (RGBA at its layout size),
 * `box` its layout position, `generated` the upstream's frame at the layout's size.
 */
export function alignProduct(product: Rgba8, box: Box, generated: Raster8, range: SearchRange = DEFAULT_RANGE): Alignment {
  const long = Math.max(box.width, box.height);
  const coarse = Math.max(0, Math.floor(Math.log2(long / COARSE_LONG)));
  const fine = Math.min(coarse, Math.max(0, Math.floor(Math.log2(long / FINE_LONG))));
  const region = searchRegion(box, generated, range);

  // the template: the product's luma over mid grey, padded so its outline's edges are inside it
  const pad = 2 ** (coarse + 1);
  const tw = product.width + 2 * pad, th = product.height + 2 * pad;
  const tl = new Float32Array(tw * th).fill(0.5);
  const ta = new Float32Array(tw * th);
  for (let y = 0; y < product.height; y++) {
    for (let x = 0; x < product.width; x++) {
      const o = (y * product.width + x) * 4;
      const al = product.data[o + 3]! / 255;
      const l = (0.2126 * product.data[o]! + 0.7152 * product.data[o + 1]! + 0.0722 * product.data[o + 2]!) / 255;
      const i = (y + pad) * tw + x + pad;
      tl[i] = al * l + (1 - al) * 0.5;
      ta[i] = al;
    }
  }
  const tLuma = pyramid({ data: tl, width: tw, height: th }, coarse);
  const tAlpha = pyramid({ data: ta, width: tw, height: th }, coarse);
  const gLuma = pyramid(lumaOf(generated, region), coarse);

  const levels: Level[] = [];
  for (let l = 0; l <= coarse; l++) {
    if (l < fine) { levels.push(undefined as unknown as Level); continue; }
    const scale = 2 ** l;
    const grad = gradientMagnitude(tLuma[l]!);
    levels.push({
      scale,
      gen: gradientMagnitude(gLuma[l]!),
      points: pointsOf(grad, tAlpha[l]!, scale, pad, l === fine ? MAX_POINTS : MID_POINTS),
      coarse: pointsOf(grad, tAlpha[l]!, scale, pad, COARSE_POINTS),
    });
  }

  // exhaustive at the coarsest level: a grid of scales and rotations, every whole-pixel shift
  const top = levels[coarse]!;
  const frameLong = Math.max(generated.width, generated.height);
  const steps = Math.ceil((range.shift * frameLong) / top.scale);
  const half = long / 2;
  const sStep = top.scale / half;
  const rStep = (top.scale / half) * (180 / Math.PI);
  const candidates: Alignment[] = [];
  for (let s = range.scale[0]; s <= range.scale[1] + 1e-9; s += sStep) {
    for (let r = -range.rotation; r <= range.rotation + 1e-9; r += rStep) {
      for (let j = -steps; j <= steps; j++) {
        for (let i = -steps; i <= steps; i++) {
          const tr = { dx: i * top.scale, dy: j * top.scale, scale: s, rotation: r };
          candidates.push({ transform: tr, score: score(top, top.coarse, tr, box, region) });
        }
      }
    }
  }
  candidates.sort((p, q) => q.score - p.score);
  const seeds: Alignment[] = [];
  for (const c of candidates) {
    if (seeds.length >= 3) break;
    const near = seeds.some((s) => Math.hypot(s.transform.dx - c.transform.dx, s.transform.dy - c.transform.dy) < 2 * top.scale);
    if (!near) seeds.push(c);
  }

  // refine each seed level by level with a pattern search, to a sixteenth of a pixel at the finest
  let best: Alignment = { transform: { dx: 0, dy: 0, scale: 1, rotation: 0 }, score: -Infinity };
  for (const seed of seeds) {
    let cur = seed.transform;
    let curScore = -Infinity;
    for (let l = coarse; l >= fine; l--) {
      const lv = levels[l]!;
      const f = (tr: Similarity): number => score(lv, lv.points, tr, box, region);
      curScore = f(cur);
      let step = lv.scale;
      const minStep = l === fine ? lv.scale / 16 : lv.scale / 4;
      while (step >= minStep) {
        let moved = false;
        const ds = step / half;
        const dr = (step / half) * (180 / Math.PI);
        const tries: Similarity[] = [
          { ...cur, dx: cur.dx + step }, { ...cur, dx: cur.dx - step },
          { ...cur, dy: cur.dy + step }, { ...cur, dy: cur.dy - step },
          { ...cur, scale: cur.scale + ds }, { ...cur, scale: cur.scale - ds },
          { ...cur, rotation: cur.rotation + dr }, { ...cur, rotation: cur.rotation - dr },
        ];
        for (const tr of tries) {
          const sc = f(tr);
          if (sc > curScore) { cur = tr; curScore = sc; moved = true; }
        }
        if (!moved) step /= 2;
      }
    }
    if (curScore > best.score) best = { transform: cur, score: curScore };
  }
  return best;
}
