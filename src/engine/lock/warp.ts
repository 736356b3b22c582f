import type { Box, Rgba8 } from '../raster/types.js';

/**
 * The similarity transform the lock searches: where the upstream put the product it was given.
 * It maps a point of the placed product (pixel centres of the product raster at its layout size)
 * to the frame: scale and rotation about the product's centre, then the layout position plus a
 * shift. The identity is the layout placement itself.
 */
export interface Similarity {
  /** shift of the product's centre, output pixels */
  dx: number;
  dy: number;
  scale: number;
  /** degrees, clockwise on screen (y runs down) */
  rotation: number;
}

export const IDENTITY: Similarity = { dx: 0, dy: 0, scale: 1, rotation: 0 };

/** The 2×3 matrix [a, b, tx, c, d, ty] of `t` for a product of `box` (x' = a·u + b·v + tx). */
export function matrixOf(t: Similarity, box: Box): [number, number, number, number, number, number] {
  const r = (t.rotation * Math.PI) / 180;
  const a = t.scale * Math.cos(r);
  const s = t.scale * Math.sin(r);
  const cu = (box.width - 1) / 2;
  const cv = (box.height - 1) / 2;
  const cx = box.x + cu + t.dx;
  const cy = box.y + cv + t.dy;
  return [a, -s, cx - a * cu + s * cv, s, a, cy - s * cu - a * cv];
}

/** Where product point (u, v) lands in the frame. */
export function applySimilarity(t: Similarity, box: Box, u: number, v: number): [number, number] {
  const [a, b, tx, c, d, ty] = matrixOf(t, box);
  return [a * u + b * v + tx, c * u + d * v + ty];
}

/** The largest distance between where `a` and `b` put the product box's corners, in output pixels. */
export function transformDistance(a: Similarity, b: Similarity, box: Box): number {
  let worst = 0;
  for (const [u, v] of [[0, 0], [box.width - 1, 0], [0, box.height - 1], [box.width - 1, box.height - 1]] as const) {
    const [x1, y1] = applySimilarity(a, box, u, v);
    const [x2, y2] = applySimilarity(b, box, u, v);
    worst = Math.max(worst, Math.hypot(x1 - x2, y1 - y2));
  }
  return worst;
}

/** The frame region a transformed product covers (clamped to the frame), with a margin. */
export function coveredBox(t: Similarity, box: Box, frame: { width: number; height: number }, margin = 2): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [u, v] of [[-0.5, -0.5], [box.width - 0.5, -0.5], [-0.5, box.height - 0.5], [box.width - 0.5, box.height - 0.5]] as const) {
    const [x, y] = applySimilarity(t, box, u, v);
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  const left = Math.max(0, Math.floor(x0) - margin);
  const top = Math.max(0, Math.floor(y0) - margin);
  const right = Math.min(frame.width, Math.ceil(x1) + margin + 1);
  const bottom = Math.min(frame.height, Math.ceil(y1) + margin + 1);
  return { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** Catmull-Rom weights for a fractional offset f in [0, 1). */
function cubicWeights(f: number, w: Float32Array): void {
  const f2 = f * f, f3 = f2 * f;
  w[0] = -0.5 * f3 + f2 - 0.5 * f;
  w[1] = 1.5 * f3 - 2.5 * f2 + 1;
  w[2] = -1.5 * f3 + 2 * f2 + 0.5 * f;
  w[3] = 0.5 * f3 - 0.5 * f2;
}

/**
 * The product resampled into the frame region `region` at transform `t`: premultiplied RGB
 * (0..255 floats) and alpha (0..1), region-sized. Catmull-Rom over premultiplied pixels, so a
 * shift by whole pixels at scale 1 returns the product's own pixels.
 */
export function warpProduct(product: Rgba8, box: Box, t: Similarity, region: Box): { rgb: Float32Array; alpha: Float32Array } {
  const [a, b, tx, c, d, ty] = matrixOf(t, box);
  const det = a * d - b * c;
  // inverse: frame → product
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  const pw = product.width, ph = product.height, src = product.data;
  const n = region.width * region.height;
  const rgb = new Float32Array(n * 3);
  const alpha = new Float32Array(n);
  const wx = new Float32Array(4), wy = new Float32Array(4);
  // each source pixel's alpha as 0..1, divided once rather than at each of the 16 taps that read it
  const A255 = new Float64Array(pw * ph);
  for (let q = 0; q < pw * ph; q++) A255[q] = src[q * 4 + 3]! / 255;
  // per product row, the columns a 4×4 kernel centred within two rows of it can find any alpha in
  const first = new Int32Array(ph).fill(pw), last = new Int32Array(ph).fill(-1);
  for (let v = 0; v < ph; v++) {
    let a0 = pw, a1 = -1;
    for (let u = 0; u < pw; u++) if (src[(v * pw + u) * 4 + 3]! > 0) { a0 = u; break; }
    for (let u = pw - 1; u >= a0; u--) if (src[(v * pw + u) * 4 + 3]! > 0) { a1 = u; break; }
    for (let k = Math.max(0, v - 2); k <= Math.min(ph - 1, v + 2); k++) { first[k] = Math.min(first[k]!, a0); last[k] = Math.max(last[k]!, a1); }
  }
  for (let y = 0; y < region.height; y++) {
    const fy = region.y + y - ty;
    for (let x = 0; x < region.width; x++) {
      const fx = region.x + x - tx;
      const u = ia * fx + ib * fy;
      const v = ic * fx + id * fy;
      if (u < -1 || v < -1 || u > pw || v > ph) continue;
      const u0 = Math.floor(u), v0 = Math.floor(v);
      const row = v0 < 0 ? 0 : v0 >= ph ? ph - 1 : v0;
      if (u0 + 2 < first[row]! || u0 - 1 > last[row]!) continue;
      cubicWeights(u - u0, wx);
      cubicWeights(v - v0, wy);
      let r = 0, g = 0, bl = 0, al = 0;
      if (u0 >= 1 && v0 >= 1 && u0 + 2 < pw && v0 + 2 < ph) {
        // all 16 taps inside the product: no bounds to check
        for (let j = 0; j < 4; j++) {
          const wyj = wy[j]!;
          let q = (v0 - 1 + j) * pw + u0 - 1;
          for (let i = 0; i < 4; i++, q++) {
            const aw = A255[q]! * (wx[i]! * wyj);
            const o = q * 4;
            r += src[o]! * aw; g += src[o + 1]! * aw; bl += src[o + 2]! * aw; al += aw;
          }
        }
      } else {
        for (let j = 0; j < 4; j++) {
          const yy = v0 - 1 + j;
          if (yy < 0 || yy >= ph) continue;
          const wyj = wy[j]!;
          for (let i = 0; i < 4; i++) {
            const xx = u0 - 1 + i;
            if (xx < 0 || xx >= pw) continue;
            const q = yy * pw + xx;
            const aw = A255[q]! * (wx[i]! * wyj);
            const o = q * 4;
            r += src[o]! * aw; g += src[o + 1]! * aw; bl += src[o + 2]! * aw; al += aw;
          }
        }
      }
      const p = y * region.width + x;
      const A = al <= 0 ? 0 : al >= 1 ? 1 : al;
      alpha[p] = A;
      // keep premultiplied colour within what its alpha allows (the cubic kernel overshoots)
      const cap = 255 * A;
      rgb[p * 3] = r <= 0 ? 0 : r >= cap ? cap : r;
      rgb[p * 3 + 1] = g <= 0 ? 0 : g >= cap ? cap : g;
      rgb[p * 3 + 2] = bl <= 0 ? 0 : bl >= cap ? cap : bl;
    }
  }
  return { rgb, alpha };
}
