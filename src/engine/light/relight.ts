import type { ScenePlan } from '../../contract/scene.js';
import { linearToSrgbFn, srgbToLinearLut } from '../scene/color.js';

/**
 * Relighting that keeps albedo. A shading field comes from the product's shape: the silhouette's
 * distance to its edge, rounded into a height field, gives a normal per pixel (a bottle or a cup
 * reads as a rounded solid). The new key light's shading is divided by a neutral frontal light's,
 * and that ratio scales the pixel in linear RGB, all three channels by the same factor, capped so no
 * channel clips. Luminance changes as the light implies; chromaticity (hue and saturation) does not.
 */

export interface RelightOptions {
  light: ScenePlan['light'];
  /** global exposure of the scene (−1…1), which the product follows at half strength */
  exposure: number;
  /** a 0..1 light pattern (window, leaves) over the product's box, or null */
  pattern?: Float32Array | null;
}

/** Gain field at low resolution: w×h with the product's aspect ratio. */
export function shadingField(alpha: Uint8Array, w: number, h: number, o: RelightOptions): { gain: Float32Array; gw: number; gh: number } {
  const long = 160;
  const s = Math.min(1, long / Math.max(w, h));
  const gw = Math.max(2, Math.round(w * s));
  const gh = Math.max(2, Math.round(h * s));
  // downsample the matte (box average)
  const m = new Float32Array(gw * gh);
  for (let y = 0; y < gh; y++) {
    const y0 = Math.floor((y / gh) * h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) / gh) * h));
    for (let x = 0; x < gw; x++) {
      const x0 = Math.floor((x / gw) * w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) / gw) * w));
      let sum = 0;
      let n = 0;
      for (let yy = y0; yy < y1; yy += 2) for (let xx = x0; xx < x1; xx += 2) { sum += alpha[yy * w + xx]!; n++; }
      m[y * gw + x] = sum / (255 * Math.max(1, n));
    }
  }
  // chamfer distance to the outside, horizontally weighted: products are mostly turned on a
  // vertical axis, so their roundness shows across rather than down
  const INF = 1e9;
  const d = new Float32Array(gw * gh);
  for (let i = 0; i < d.length; i++) d[i] = m[i]! > 0.5 ? INF : 0;
  const dx = 1;
  const dy = 2.2;
  const dd = Math.hypot(dx, dy);
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const i = y * gw + x;
      if (d[i] === 0) continue;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + dx); else v = Math.min(v, dx);
      if (y > 0) v = Math.min(v, d[i - gw]! + dy); else v = Math.min(v, dy);
      if (x > 0 && y > 0) v = Math.min(v, d[i - gw - 1]! + dd);
      if (x < gw - 1 && y > 0) v = Math.min(v, d[i - gw + 1]! + dd);
      d[i] = v;
    }
  }
  for (let y = gh - 1; y >= 0; y--) {
    for (let x = gw - 1; x >= 0; x--) {
      const i = y * gw + x;
      if (d[i] === 0) continue;
      let v = d[i]!;
      if (x < gw - 1) v = Math.min(v, d[i + 1]! + dx); else v = Math.min(v, dx);
      if (y < gh - 1) v = Math.min(v, d[i + gw]! + dy); else v = Math.min(v, dy);
      if (x < gw - 1 && y < gh - 1) v = Math.min(v, d[i + gw + 1]! + dd);
      if (x > 0 && y < gh - 1) v = Math.min(v, d[i + gw - 1]! + dd);
      d[i] = v;
    }
  }
  let maxD = 1;
  for (let i = 0; i < d.length; i++) if (d[i]! > maxD) maxD = d[i]!;
  // rounded profile: height = sqrt(1 - (1 - t)²) over the normalised distance t
  const radius = maxD * 0.9;
  const hgt = new Float32Array(gw * gh);
  for (let i = 0; i < d.length; i++) {
    const t = Math.min(1, d[i]! / radius);
    hgt[i] = Math.sqrt(Math.max(0, 1 - (1 - t) * (1 - t))) * radius;
  }
  // smooth the medial-axis ridge of the distance field so the normals do not crease
  boxBlur(hgt, gw, gh, 3);
  const el = (o.light.elevation * Math.PI) / 180;
  const az = (o.light.azimuth * Math.PI) / 180;
  // camera space: x right, y up, z toward the camera; azimuth 0 is the camera side
  const L = [Math.sin(az) * Math.cos(el), Math.sin(el), Math.cos(az) * Math.cos(el)] as const;
  const contrast = o.light.contrast;
  const ambient = 0.55 - contrast * 0.3;
  // how far the shade side falls: a studio keeps it up with fill; only a dramatic light lets it go
  const strength = 0.3 + contrast * 0.5;
  const wrap = 0.5;
  const rim = o.light.rim.enabled ? o.light.rim.intensity : 0;
  // the rim comes from behind, on the side opposite the key (or both sides for a back light)
  const rimSide = Math.abs(Math.sin(az)) < 0.3 ? 0 : -Math.sign(Math.sin(az));
  const expo = 2 ** (o.exposure * 0.5) * (0.92 + 0.08 * o.light.intensity);
  const shade = new Float32Array(gw * gh);
  const edge = new Float32Array(gw * gh);
  const inside: number[] = [];
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const i = y * gw + x;
      const hx = x > 0 && x < gw - 1 ? (hgt[i + 1]! - hgt[i - 1]!) / 2 : 0;
      const hy = y > 0 && y < gh - 1 ? (hgt[i + gw]! - hgt[i - gw]!) / 2 : 0;
      let nx = -hx;
      let ny = hy * 0.5;
      let nz = 1;
      const nl = Math.hypot(nx, ny, nz);
      nx /= nl; ny /= nl; nz /= nl;
      // wrapped Lambert: light reaches a little past the terminator, as it does on glazed ceramics
      const ndl = Math.max(0, (nx * L[0] + ny * L[1] + nz * L[2] + wrap) / (1 + wrap));
      shade[i] = ambient + (1 - ambient) * ndl;
      edge[i] = (1 - nz) ** 2 * (rimSide === 0 ? 1 : Math.max(0, Math.sign(nx) * rimSide));
      if (m[i]! > 0.5) inside.push(shade[i]!);
    }
  }
  // the brightest part of the product keeps its photographed brightness; the rest falls off from it
  inside.sort((a, b) => a - b);
  const top = inside.length > 0 ? inside[Math.floor(inside.length * 0.9)]! : 1;
  const gain = new Float32Array(gw * gh);
  for (let i = 0; i < gain.length; i++) {
    let g = 1 + (Math.min(1.08, shade[i]! / top) - 1) * strength;
    if (rim > 0) g *= 1 + rim * 0.9 * edge[i]!;
    gain[i] = Math.min(1.6, Math.max(0.4, g * expo));
  }
  boxBlur(gain, gw, gh, 2);
  return { gain, gw, gh };
}

/** In-place separable box blur (radius r), repeated twice: close to a gaussian, cheap at this size. */
function boxBlur(a: Float32Array, w: number, h: number, r: number): void {
  const tmp = new Float32Array(Math.max(w, h));
  for (let pass = 0; pass < 2; pass++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let k = -r; k <= r; k++) { const xx = x + k; if (xx >= 0 && xx < w) { s += a[y * w + xx]!; n++; } }
        tmp[x] = s / n;
      }
      for (let x = 0; x < w; x++) a[y * w + x] = tmp[x]!;
    }
    for (let x = 0; x < w; x++) {
      for (let y = 0; y < h; y++) {
        let s = 0;
        let n = 0;
        for (let k = -r; k <= r; k++) { const yy = y + k; if (yy >= 0 && yy < h) { s += a[yy * w + x]!; n++; } }
        tmp[y] = s / n;
      }
      for (let y = 0; y < h; y++) a[y * w + x] = tmp[y]!;
    }
  }
}

/** How far a projected pattern's shade darkens the product at mid contrast: the key's share of its light. */
export const PATTERN_DEPTH = 0.32;

/**
 * Relights RGBA product pixels (w×h) in place of a copy. Transparent pixels are left as they are;
 * the alpha channel is never changed.
 */
export function relightProduct(rgba: Buffer, w: number, h: number, o: RelightOptions): Buffer {
  const alpha = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) alpha[i] = rgba[i * 4 + 3]!;
  const { gain, gw, gh } = shadingField(alpha, w, h, o);
  const lut = srgbToLinearLut();
  const enc = linearToSrgbFn();
  const out = Buffer.from(rgba);
  const patternDepth = PATTERN_DEPTH * (0.8 + 0.4 * o.light.contrast);
  const sx = (gw - 1) / Math.max(1, w - 1);
  const sy = (gh - 1) / Math.max(1, h - 1);
  for (let y = 0; y < h; y++) {
    const gy = y * sy;
    const y0 = Math.floor(gy);
    const y1 = Math.min(gh - 1, y0 + 1);
    const ty = gy - y0;
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (alpha[p] === 0) continue;
      const gx = x * sx;
      const x0 = Math.floor(gx);
      const x1 = Math.min(gw - 1, x0 + 1);
      const tx = gx - x0;
      const a0 = gain[y0 * gw + x0]!;
      const a1 = gain[y0 * gw + x1]!;
      const b0 = gain[y1 * gw + x0]!;
      const b1 = gain[y1 * gw + x1]!;
      let g = (a0 + (a1 - a0) * tx) * (1 - ty) + (b0 + (b1 - b0) * tx) * ty;
      // a gobo blocks only the key: shaded patches fall to the fill, lit ones keep the product's own white
      if (o.pattern) g *= 1 - patternDepth * (1 - o.pattern[p]!);
      const i = p * 4;
      const r = lut[rgba[i]!]!;
      const gg = lut[rgba[i + 1]!]!;
      const b = lut[rgba[i + 2]!]!;
      const mx = Math.max(r, gg, b, 1e-6);
      if (g * mx > 1) g = 1 / mx; // never clip one channel: that would shift the hue
      out[i] = enc(r * g);
      out[i + 1] = enc(gg * g);
      out[i + 2] = enc(b * g);
    }
  }
  return out;
}
