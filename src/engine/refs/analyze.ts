import type { SceneOverride, ScenePlan } from '../../contract/scene.js';
import { nearestDirection } from '../../plan/resolve.js';
import { kelvinToLinear, srgbToLinearLut } from '../raster/color.js';
import { resizeRgb } from '../codec.js';
import type { Mask8, Raster8, Rgb8 } from '../raster/types.js';

/**
 * What the engine reads from reference images that are not products: whether a reference has a
 * single compact foreground at all (else it is a scene), where a scene photo's surface is and how it
 * is lit, and the look of a style reference. All measured on small copies (256 px long side).
 */

const SMALL = 256;

/** an RGB copy at most SMALL px on its long side */
export type Small = Rgb8;

/** An RGB copy at most 256 px on its long side. */
export async function smallCopy(img: Raster8): Promise<Small> {
  const s = Math.min(1, SMALL / Math.max(img.width, img.height));
  const width = Math.max(8, Math.round(img.width * s));
  const height = Math.max(8, Math.round(img.height * s));
  return resizeRgb(img, width, height);
}

const luma8 = (d: Buffer, o: number) => (0.2126 * d[o]! + 0.7152 * d[o + 1]! + 0.0722 * d[o + 2]!) / 255;

/**
 * True when an image has no clear single foreground: its border is busy (not a packshot backdrop)
 * and the matte either covers most of the frame, finds almost nothing, or runs off several edges.
 */
export function looksLikeScene(small: Small, matte: Mask8): boolean {
  const { data, width: w, height: h } = small;
  const { data: alpha, width: aw, height: ah } = matte;
  // border busyness: spread of luminance along the frame's edge
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(luma8(data, x * 3), luma8(data, ((h - 1) * w + x) * 3));
  for (let y = 0; y < h; y++) border.push(luma8(data, y * w * 3), luma8(data, (y * w + w - 1) * 3));
  const mean = border.reduce((a, b) => a + b, 0) / border.length;
  const sd = Math.sqrt(border.reduce((a, b) => a + (b - mean) ** 2, 0) / border.length);
  let covered = 0;
  let x0 = aw, y0 = ah, x1 = -1, y1 = -1;
  for (let y = 0; y < ah; y++) {
    for (let x = 0; x < aw; x++) {
      if (alpha[y * aw + x]! > 128) {
        covered++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  const share = covered / (aw * ah);
  const edges = x1 < 0 ? 0 : [x0 <= 1, y0 <= 1, x1 >= aw - 2, y1 >= ah - 2].filter(Boolean).length;
  const busy = sd > 0.06;
  if (share < 0.01 || share > 0.7) return busy || share > 0.9;
  return busy && edges >= 2;
}

export interface SceneReading {
  /** rows as fractions of the height: the surface's far edge and the row products stand on */
  backEdge: number;
  baseRow: number;
  /** light estimated from the photo */
  light: { from: ScenePlan['light']['from']; azimuth: number; temperature: number; luminance: number };
}

/** Per-row strength of horizontal edges (vertical luminance gradient, averaged across the row). */
function rowEdges(s: Small): Float32Array {
  const { data, width: w, height: h } = s;
  const out = new Float32Array(h);
  for (let y = 1; y < h - 1; y++) {
    let sum = 0;
    let same = 0;
    let sign = 0;
    for (let x = 0; x < w; x++) {
      const d = luma8(data, ((y + 1) * w + x) * 3) - luma8(data, ((y - 1) * w + x) * 3);
      sum += Math.abs(d);
      sign += d;
      same += Math.abs(d) > 0.02 ? 1 : 0;
    }
    // a table edge runs across the frame in one direction; texture flips sign and averages out
    out[y] = (Math.abs(sign) / w) * 0.7 + (sum / w) * 0.3 * (same / w);
  }
  return out;
}

/** Estimates a colour temperature from the brightest pixels' red/blue balance. */
function temperatureOf(s: Small): number {
  const lut = srgbToLinearLut();
  const lum: number[] = [];
  for (let p = 0; p < s.width * s.height; p++) lum.push(luma8(s.data, p * 3));
  const sorted = [...lum].sort((a, b) => a - b);
  const cut = sorted[Math.floor(sorted.length * 0.8)]!;
  let r = 0, b = 0;
  for (let p = 0; p < lum.length; p++) {
    if (lum[p]! < cut) continue;
    r += lut[s.data[p * 3]!]!;
    b += lut[s.data[p * 3 + 2]!]!;
  }
  const ratio = r / Math.max(1e-6, b);
  let best = 5500;
  let bestD = Infinity;
  for (let k = 2000; k <= 10000; k += 100) {
    const c = kelvinToLinear(k);
    // surfaces are never white: read the light at half strength, as a camera's auto white balance would
    const d = Math.abs(Math.log(1 + (c[0] / c[2] - 1) * 0.5) - Math.log(ratio));
    if (d < bestD) { bestD = d; best = k; }
  }
  return best;
}

/** Left/right balance of brightness over a region → a key azimuth (−90 left … 90 right). */
function azimuthOf(s: Small, y0: number, y1: number): number {
  const { data, width: w } = s;
  let left = 0, right = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < w; x++) {
      const v = luma8(data, (y * w + x) * 3);
      if (x < w * 0.4) left += v;
      else if (x >= w * 0.6) right += v;
    }
  }
  const balance = (right - left) / Math.max(1e-6, right + left);
  if (Math.abs(balance) < 0.03) return 0;
  return Math.sign(balance) * Math.min(90, 25 + Math.abs(balance) * 260);
}

/** Reads a scene photo (already cover-fitted to the output frame): its surface and its light. */
export function readScene(s: Small): SceneReading {
  const h = s.height;
  const edges = rowEdges(s);
  const lo = Math.floor(h * 0.3);
  const hi = Math.floor(h * 0.95);
  const peaks: Array<{ y: number; v: number }> = [];
  for (let y = lo; y < hi; y++) {
    const v = edges[y]!;
    if (v >= edges[y - 1]! && v >= edges[y + 1]!) peaks.push({ y, v });
  }
  peaks.sort((a, b) => b.v - a.v);
  const first = peaks[0];
  let backEdge = first ? first.y / h : 0.55;
  let baseRow: number;
  const second = first ? peaks.find((p) => Math.abs(p.y - first.y) > h * 0.05 && p.v > first.v * 0.3) : undefined;
  if (first && second) {
    const top = Math.min(first.y, second.y) / h;
    const bottom = Math.max(first.y, second.y) / h;
    backEdge = top;
    // stand on the table top, a little more than halfway toward its front edge
    baseRow = top + (bottom - top) * 0.62;
  } else baseRow = backEdge + (1 - backEdge) * 0.4;
  let luminance = 0;
  for (let p = 0; p < s.width * s.height; p++) luminance += luma8(s.data, p * 3);
  luminance /= s.width * s.height;
  const azimuth = Math.round(azimuthOf(s, 0, Math.max(1, Math.floor(backEdge * h))));
  return {
    backEdge: round3(backEdge), baseRow: round3(baseRow),
    light: { from: nearestDirection(azimuth, 35), azimuth, temperature: temperatureOf(s), luminance: round3(luminance) },
  };
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const hex = (r: number, g: number, b: number) => `#${[r, g, b].map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('')}`;

/** The look of a style reference as a partial plan, and the values taken (for the plan's `style_from`). */
export function readStyle(s: Small): { override: SceneOverride; values: Record<string, unknown> } {
  const n = s.width * s.height;
  const lum = new Float32Array(n);
  for (let p = 0; p < n; p++) lum[p] = luma8(s.data, p * 3);
  const sorted = [...lum].sort((a, b) => a - b);
  const mean = lum.reduce((a, b) => a + b, 0) / n;
  const spread = sorted[Math.floor(n * 0.95)]! - sorted[Math.floor(n * 0.05)]!;
  // a small palette: mean colours of the darker, middle and lighter thirds by luminance
  const thirds = [sorted[Math.floor(n / 3)]!, sorted[Math.floor((2 * n) / 3)]!];
  const acc = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
  for (let p = 0; p < n; p++) {
    const k = lum[p]! < thirds[0]! ? 0 : lum[p]! < thirds[1]! ? 1 : 2;
    const a = acc[k]!;
    a[0]! += s.data[p * 3]!; a[1]! += s.data[p * 3 + 1]!; a[2]! += s.data[p * 3 + 2]!; a[3]! += 1;
  }
  const colors = acc.filter((a) => a[3]! > 0).map((a) => hex(a[0]! / a[3]!, a[1]! / a[3]!, a[2]! / a[3]!));
  const temperature = temperatureOf(s);
  const azimuth = Math.round(azimuthOf(s, 0, s.height));
  const from = nearestDirection(azimuth, 35);
  const exposure = Math.round(Math.max(-0.8, Math.min(0.5, (mean - 0.5) * 1.4)) * 100) / 100;
  const contrast = Math.round(Math.max(0.15, Math.min(0.95, spread * 1.1)) * 100) / 100;
  const warmth = Math.round(Math.max(-0.8, Math.min(0.8, (5400 - temperature) / 3200)) * 100) / 100;
  const middle = colors[Math.min(1, colors.length - 1)]!;
  const override: SceneOverride = {
    light: { from, azimuth, temperature, contrast },
    grade: { exposure, warmth },
    palette: { names: ['from the style reference'], colors },
    backdrop: { color: middle },
  };
  return { override, values: { palette: colors, backdrop_color: middle, temperature_k: temperature, exposure, contrast, warmth, light_from: from, brightness: Math.round(mean * 100) / 100 } };
}
