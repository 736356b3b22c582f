import type { Mask8 } from '../raster/types.js';
import { boxMean } from './filters.js';

/** Matte quality against a ground truth: used by the evaluation script and the threshold tests. */
export interface MatteScores {
  /** intersection over union of the mattes thresholded at 50% */
  iou: number;
  /** F-score of the thresholded boundaries, matched within `tolerance` px */
  boundaryF: number;
  /** mean absolute alpha error, 0..1, over all pixels */
  mae: number;
  /**
   * mean absolute alpha error, 0..1, over the pixels either matte puts above 0: the product and what the
   * matte adds to it. The whole-frame figure dilutes a see-through product's error by the empty backdrop.
   */
  maeProduct: number;
}

export function scoreMatte(predicted: Mask8, expected: Mask8, tolerance = 3): MatteScores {
  const { data: pred, width, height } = predicted;
  const truth = expected.data;
  const n = width * height;
  if (pred.length !== n || truth.length !== n || expected.width !== width || expected.height !== height) throw new Error(`Expected two ${width}x${height} mattes but received ${pred.length} and ${truth.length} bytes`);
  let inter = 0, union = 0, err = 0, support = 0;
  const pm = new Uint8Array(n), tm = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = pred[i]! >= 128 ? 1 : 0, t = truth[i]! >= 128 ? 1 : 0;
    pm[i] = p; tm[i] = t;
    inter += p & t; union += p | t;
    err += Math.abs(pred[i]! - truth[i]!);
    if (pred[i]! || truth[i]!) support++;
  }
  const pb = boundary(pm, width, height), tb = boundary(tm, width, height);
  const near = (b: Float32Array) => boxMean(b, width, height, tolerance);
  const pNear = near(pb), tNear = near(tb);
  let pc = 0, ph = 0, tc = 0, th = 0;
  for (let i = 0; i < n; i++) {
    if (pb[i]) { pc++; if (tNear[i]! > 1e-6) ph++; }
    if (tb[i]) { tc++; if (pNear[i]! > 1e-6) th++; }
  }
  const precision = pc ? ph / pc : tc ? 0 : 1, recall = tc ? th / tc : pc ? 0 : 1;
  return {
    iou: union ? inter / union : 1,
    boundaryF: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    mae: err / n / 255,
    maeProduct: support ? err / support / 255 : 0,
  };
}

function boundary(m: Uint8Array, w: number, h: number): Float32Array {
  const b = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!m[i]) continue;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1 || !m[i - 1] || !m[i + 1] || !m[i - w] || !m[i + w]) b[i] = 1;
    }
  }
  return b;
}
