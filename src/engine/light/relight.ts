import { createHash } from 'node:crypto';
import type { ScenePlan } from '../../contract/scene.js';
import { kelvinToLinear, softenLight, SRGB_STEPS, srgbTable, srgbToLinearLut } from '../raster/color.js';
import { kth } from '../raster/select.js';
import { irradiance, type Sh9 } from '../raster/sh.js';
import { mask8, type Mask8, type Rgba8 } from '../raster/types.js';

/**
 * Relighting that keeps albedo. A shading field comes from the product's shape: each row of the
 * silhouette is read as a section of a turned solid, which gives a normal per pixel (a bottle or a
 * cup reads as a rounded solid). The new key light's shading is divided by a neutral frontal light's,
 * and that ratio scales the pixel in linear RGB, all three channels by the same factor, capped so no
 * channel clips. Luminance changes as the light implies; the illuminant's colour (a warm cafe, golden
 * hour) multiplies the three channels by one fixed colour, as a light of that colour does on any
 * surface: the product's albedo is never changed, only the light falling on it.
 *
 * With a photographic environment (scene/environment.ts) the fill is the environment's own diffuse
 * light (its spherical harmonics, turned to the camera's view): the side of the product that faces
 * the room's bright side is brighter, and the environment's colour joins the illuminant.
 * A dramatic or hard light (contrast or hardness past 0.55) lets the shade side fall to the fill
 * alone: at 0.75 and above the key-to-fill ratio across a turned product is at least 4:1.
 */

export interface RelightOptions {
  light: ScenePlan['light'];
  /** global exposure of the scene (−1…1), which the product follows at half strength */
  exposure: number;
  /** a 0..1 light pattern (window, leaves) over the product's box, or null */
  pattern?: Float32Array | null;
  /**
   * the environment's light: its harmonics, the camera's turn in it (degrees, as the backdrop's) and
   * its dominant light's colour (luminance 1)
   */
  environment?: { sh: Sh9; yaw: number; colour: [number, number, number] } | null;
}

/** The colour temperature the studio's light is balanced for: a light at this temperature adds no tint. */
export const NEUTRAL_KELVIN = 5200;
/** How far the illuminant's colour reaches the product (a camera's white balance takes the rest out). */
const TINT_SHARE = 0.42;

/**
 * The illuminant's colour on the product, linear RGB with luminance 1: the key's temperature against
 * the neutral one, joined by the environment's dominant light, softened as a camera's white balance
 * softens it. 1, 1, 1 for a neutral studio light.
 */
export function illuminant(o: Pick<RelightOptions, 'light' | 'environment'>): [number, number, number] {
  const k = kelvinToLinear(o.light.temperature);
  const n = kelvinToLinear(NEUTRAL_KELVIN);
  let c: [number, number, number] = [k[0] / n[0], k[1] / n[1], k[2] / n[2]];
  if (o.environment) {
    const e = o.environment.colour;
    // the photograph's dominant light joins the key's colour at a third (a camera balances for the key)
    c = [c[0] * 0.65 + e[0] * 0.35, c[1] * 0.65 + e[1] * 0.35, c[2] * 0.65 + e[2] * 0.35];
  }
  // a camera's white balance keeps even candlelight from turning a white product orange: the
  // illuminant's red over blue stays within MAX_WARM (and blue over red within MAX_COOL)
  let share = TINT_SHARE;
  let t = softenLight(c, share);
  for (let k = 0; k < 20 && (t[0] / t[2] > MAX_WARM || t[2] / t[0] > MAX_COOL); k++) {
    share *= 0.9;
    t = softenLight(c, share);
  }
  const y = 0.2126 * t[0] + 0.7152 * t[1] + 0.0722 * t[2];
  return [t[0] / y, t[1] / y, t[2] / y];
}

/** the warmest and coolest the light on a product gets (red over blue, blue over red) */
const MAX_WARM = 1.55;
const MAX_COOL = 1.15;

/** 0 for a studio light, 1 for a dramatic or hard one: how far the shade side falls to the fill alone. */
export function dramaOf(light: ScenePlan['light']): number {
  return Math.min(1, Math.max(0, (Math.max(light.contrast, light.hardness) - 0.55) / 0.2));
}

/** the fill's share of the light on a dramatic product's lit side */
const HARD_FILL = 0.12;
/** a hard key still wraps a little past the terminator (a large source at a short distance) */
const HARD_WRAP = 0.5;
/** the least mean gain of a dramatically lit product */
const MIN_MEAN_GAIN = 0.62;

/** Rows each way over which a section's change of width gives its wall's tilt. */
const SLOPE_ROWS = 4;

/** The product's shape at the gain field's resolution: coverage and a smoothed normal per cell. */
interface ProductNormals { m: Float32Array; nxs: Float32Array; nys: Float32Array; nzs: Float32Array; gw: number; gh: number }

/**
 * Normals by the matte's content (its size and a hash of its bytes), least recently used first: they
 * depend on the silhouette alone, so the same product in another scene, light or seed reuses them
 * (about 400 KB each; per thread).
 */
const normalsCache = new Map<string, ProductNormals>();
const NORMALS_KEPT = 16;

function cachedNormals(matte: Mask8): ProductNormals {
  const key = `${matte.width}x${matte.height}:${createHash('sha1').update(matte.data).digest('base64')}`;
  let n = normalsCache.get(key);
  if (n) normalsCache.delete(key);
  else n = productNormals(matte);
  normalsCache.set(key, n);
  if (normalsCache.size > NORMALS_KEPT) normalsCache.delete(normalsCache.keys().next().value!);
  return n;
}

/** Gain field at low resolution: w×h with the product's aspect ratio. */
export function shadingField(matte: Mask8, o: RelightOptions): { gain: Float32Array; gw: number; gh: number } {
  // read only: the cached arrays are shared with later renders of the same product
  const { m, nxs, nys, nzs, gw, gh } = cachedNormals(matte);
  const el = (o.light.elevation * Math.PI) / 180;
  const az = (o.light.azimuth * Math.PI) / 180;
  // camera space: x right, y up, z toward the camera; azimuth 0 is the camera side
  const L = [Math.sin(az) * Math.cos(el), Math.sin(el), Math.cos(az) * Math.cos(el)] as const;
  const contrast = o.light.contrast;
  const ambient = 0.55 - contrast * 0.3;
  // how far the shade side falls: a studio keeps it up with fill; only a dramatic light lets it go
  const strength = 0.3 + contrast * 0.5;
  // how far light wraps past the terminator: glazed ceramics scatter a soft key around the form,
  // a hard dramatic key leaves a clear shade side
  const wrap = 0.5 - 0.3 * Math.min(1, Math.max(0, (contrast - 0.5) / 0.3));
  const rim = o.light.rim.enabled ? o.light.rim.intensity : 0;
  // the rim comes from behind, on the side opposite the key (or both sides for a back light)
  const rimSide = Math.abs(Math.sin(az)) < 0.3 ? 0 : -Math.sign(Math.sin(az));
  // The product has its own key: a dark scene (night, low-key) darkens it only a little, so it
  // stays the lit subject; a bright scene lifts it more.
  const expo = 2 ** (o.exposure * (o.exposure < 0 ? 0.15 : 0.4)) * (0.92 + 0.08 * o.light.intensity);
  // a fill from the camera side (a bounce card), stronger the softer the contrast
  const fill = 0.45 * (1 - contrast);
  const F = [0, 0.25, 0.97] as const;
  const drama = dramaOf(o.light);
  // the environment's diffuse light on a normal, against what a surface facing the camera receives
  const env = o.environment ?? null;
  const yaw = env ? (env.yaw * Math.PI) / 180 : 0;
  const cy = Math.cos(yaw), sy = Math.sin(yaw);
  const e = [0, 0, 0];
  const basis = new Float64Array(9);
  const envLuma = (nx: number, ny: number, nz: number) => {
    // camera space → the environment's: the camera looks along −z, turned by the yaw
    irradiance(env!.sh, nx * cy - nz * sy, ny, nx * sy + nz * cy, e, basis);
    return 0.2126 * e[0]! + 0.7152 * e[1]! + 0.0722 * e[2]!;
  };
  const envRef = env ? Math.max(1e-6, envLuma(F[0], F[1], F[2])) : 1;
  const shade = new Float32Array(gw * gh);
  const hard = new Float32Array(gw * gh);
  const edge = new Float32Array(gw * gh);
  const inside: number[] = [];
  const insideHard: number[] = [];
  const cells: CellPass = { m, nxs, nys, nzs, gw, L, F, wrap, ambient, fill, rimSide, sh: env ? env.sh : null, cy, sy, envRef, e, basis, shade, hard, edge, inside, insideHard };
  for (let y = 0; y < gh; y++) shadeCellRow(cells, y);
  // the brightest part of the product keeps its photographed brightness; the rest falls off from it
  // (the 90th percentile: the value a sort puts there, picked by selection)
  const top = inside.length > 0 ? kth(Float64Array.from(inside), Math.floor(inside.length * 0.9)) : 1;
  const topHard = insideHard.length > 0 ? Math.max(1e-6, kth(Float64Array.from(insideHard), Math.floor(insideHard.length * 0.9))) : 1;
  const floor = 0.4 - 0.3 * drama;
  // a dramatic key lights one flank; the product as a whole stays about as bright as a product in
  // a moody shot is (its mean gain at least MIN_MEAN_GAIN, its lit flank at most 1.3): the ratio holds
  let lift = 1;
  if (drama > 0) {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < hard.length; i++) if (m[i]! > 0.5) { sum += Math.min(1.08, hard[i]! / topHard); n++; }
    const mean = n > 0 ? sum / n : 1;
    lift = Math.min(1.3 / 1.08, Math.max(1, MIN_MEAN_GAIN / Math.max(1e-6, mean)));
  }
  const gain = new Float32Array(gw * gh);
  for (let i = 0; i < gain.length; i++) {
    let g = 1 + (Math.min(1.08, shade[i]! / top) - 1) * strength;
    if (drama > 0) g = g * (1 - drama) + Math.min(1.08, hard[i]! / topHard) * lift * drama;
    if (rim > 0) g *= 1 + rim * 1.2 * edge[i]!;
    gain[i] = Math.min(1.6, Math.max(floor, g * expo));
  }
  boxBlur(gain, gw, gh, 2);
  return { gain, gw, gh };
}

/** The product's normals from its silhouette (turned sections), smoothed, at the gain field's size. */
function productNormals(matte: Mask8): ProductNormals {
  const { data: alpha, width: w, height: h } = matte;
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
  // Products are mostly turned on a vertical axis (bottles, cups, cans, vases): each row of the
  // silhouette is read as a cross-section of a solid of revolution. Within each opaque run the
  // normal turns from one edge to the other like a cylinder's, and tilts up or down as the run
  // widens or narrows from row to row (a cone faces a little upward). A handle is its own run.
  // The axis: the median centre of each row's longest run (a handle shifts a few rows' centres).
  const centres: number[] = [];
  for (let y = 0; y < gh; y++) {
    let best = 0;
    let bestC = -1;
    for (let x = 0; x < gw; ) {
      if (m[y * gw + x]! <= 0.5) { x++; continue; }
      let e = x;
      while (e < gw && m[y * gw + e]! > 0.5) e++;
      if (e - x > best) { best = e - x; bestC = (x + e - 1) / 2; }
      x = e;
    }
    if (bestC >= 0) centres.push(bestC);
  }
  centres.sort((p, q) => p - q);
  const axis = centres.length > 0 ? centres[Math.floor(centres.length / 2)]! : gw / 2;
  const cx = new Float32Array(gw * gh);
  const rad = new Float32Array(gw * gh);
  const section = (y: number, from: number, to: number) => {
    const c = (from + to - 1) / 2;
    const r = (to - from) / 2;
    for (let k = from; k < to; k++) { cx[y * gw + k] = c; rad[y * gw + k] = r; }
  };
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; ) {
      if (m[y * gw + x]! <= 0.5) { x++; continue; }
      let e = x;
      while (e < gw && m[y * gw + e]! > 0.5) e++;
      if (x <= axis && e - 1 >= axis) {
        // the body, symmetric about the axis; what reaches further on one side (a handle's root,
        // a spout) is a section of its own
        const r = Math.max(0.5, Math.min(axis - x + 0.5, e - 0.5 - axis));
        const b0 = Math.max(x, Math.round(axis - r + 0.5));
        const b1 = Math.min(e, Math.round(axis + r + 0.5));
        for (let k = b0; k < b1; k++) { cx[y * gw + k] = axis; rad[y * gw + k] = r; }
        if (b0 > x) section(y, x, b0);
        if (e > b1) section(y, b1, e);
      } else section(y, x, e);
      x = e;
    }
  }
  const nxs = new Float32Array(gw * gh);
  const nys = new Float32Array(gw * gh);
  const nzs = new Float32Array(gw * gh);
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const i = y * gw + x;
      const r = rad[i]!;
      if (r === 0) { nzs[i] = 1; continue; }
      const u = Math.max(-0.985, Math.min(0.985, (x - cx[i]!) / (r + 0.5)));
      // over a few rows: the section's width moves in whole low-resolution pixels
      let up = r;
      let down = r;
      let span = 0;
      for (let k = 1; k <= SLOPE_ROWS; k++) {
        const a = y - k >= 0 ? rad[i - k * gw]! : 0;
        const b = y + k < gh ? rad[i + k * gw]! : 0;
        if (a === 0 || b === 0) break;
        up = a; down = b; span = k;
      }
      // slope of the wall: the radius growing downward means the wall faces down (y is down here).
      // Fast growth is mostly a cap or a rim seen from above (an opening's far edge), which faces up,
      // so downward tilts are kept small.
      const slope = span === 0 ? 0 : Math.max(-0.8, Math.min(0.25, (down - up) / (2 * span)));
      const nx = u;
      const nz = Math.sqrt(1 - u * u);
      const ny = -slope;
      const nl = Math.hypot(nx, ny, nz);
      nxs[i] = nx / nl;
      nys[i] = ny / nl;
      nzs[i] = nz / nl;
    }
  }
  // the sections are read at low resolution: soften row-to-row jitter so the shading stays smooth
  boxBlur(nxs, gw, gh, 1);
  boxBlur(nys, gw, gh, 3);
  boxBlur(nzs, gw, gh, 1);
  return { m, nxs, nys, nzs, gw, gh };
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
export const PATTERN_DEPTH = 0.28;

/**
 * Relights RGBA product pixels (w×h) in place of a copy. Transparent pixels are left as they are;
 * the alpha channel is never changed.
 */
export function relightProduct(product: Rgba8, o: RelightOptions): Buffer {
  const { data: rgba, width: w, height: h } = product;
  const alpha = Buffer.alloc(w * h);
  for (let i = 0; i < w * h; i++) alpha[i] = rgba[i * 4 + 3]!;
  const { gain, gw, gh } = shadingField(mask8(alpha, w, h), o);
  const out = Buffer.from(rgba);
  const [tr, tg, tb] = o.light.relight_product === false ? [1, 1, 1] : illuminant(o);
  const pass: RelightPass = {
    rgba, alpha, out, w, gain, gw, gh, sx: (gw - 1) / Math.max(1, w - 1), sy: (gh - 1) / Math.max(1, h - 1),
    pattern: o.pattern ?? null, patternDepth: PATTERN_DEPTH * (0.8 + 0.4 * o.light.contrast), tr, tg, tb,
    lut: srgbToLinearLut(), enc: srgbTable(),
  };
  for (let y = 0; y < h; y++) relightRow(pass, y);
  return out;
}

/** What relighting each row of a product reads. */
interface RelightPass {
  rgba: Buffer;
  alpha: Buffer;
  out: Buffer;
  w: number;
  gain: Float32Array;
  gw: number;
  gh: number;
  /** gain field cells per product pixel */
  sx: number;
  sy: number;
  pattern: Float32Array | null;
  patternDepth: number;
  tr: number; tg: number; tb: number;
  lut: Float32Array;
  enc: Uint8Array;
}

/** One row of relightProduct: a function of its own, so V8 optimises it once (not a loop re-optimised every call). */
function relightRow(c: RelightPass, y: number): void {
  const { rgba, alpha, out, w, gain, gw, gh, sx, sy, pattern, patternDepth, tr, tg, tb, lut, enc } = c;
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
    if (pattern) g *= 1 - patternDepth * (1 - pattern[p]!);
    const i = p * 4;
    const r = lut[rgba[i]!]!;
    const gg = lut[rgba[i + 1]!]!;
    const b = lut[rgba[i + 2]!]!;
    const mx = Math.max(r * tr, gg * tg, b * tb, 1e-6);
    if (g * mx > 1) g = 1 / mx; // never clip one channel: that would shift the hue
    // the sRGB table indexed directly: a call per channel costs more than the relighting
    const vr = r * g * tr;
    const vg = gg * g * tg;
    const vb = b * g * tb;
    out[i] = enc[vr <= 0 ? 0 : vr >= 1 ? SRGB_STEPS : (vr * SRGB_STEPS + 0.5) | 0]!;
    out[i + 1] = enc[vg <= 0 ? 0 : vg >= 1 ? SRGB_STEPS : (vg * SRGB_STEPS + 0.5) | 0]!;
    out[i + 2] = enc[vb <= 0 ? 0 : vb >= 1 ? SRGB_STEPS : (vb * SRGB_STEPS + 0.5) | 0]!;
  }
}

/** What shading each row of the gain field's cells reads and writes. */
interface CellPass {
  m: Float32Array; nxs: Float32Array; nys: Float32Array; nzs: Float32Array; gw: number;
  L: readonly [number, number, number];
  F: readonly [number, number, number];
  wrap: number; ambient: number; fill: number; rimSide: number;
  /** the environment's harmonics (null: a studio light), the camera's turn in it, a frontal normal's luminance */
  sh: Sh9 | null; cy: number; sy: number; envRef: number;
  /** scratch for the irradiance */
  e: number[]; basis: Float64Array<ArrayBuffer>;
  shade: Float32Array; hard: Float32Array; edge: Float32Array;
  inside: number[]; insideHard: number[];
}

/** One row of shadingField's cells: a function of its own, optimised once (see relightRow). */
function shadeCellRow(c: CellPass, y: number): void {
  const { m, nxs, nys, nzs, gw, L, F, wrap, ambient, fill, rimSide, sh, cy, sy, envRef, e, basis, shade, hard, edge, inside, insideHard } = c;
  for (let x = 0; x < gw; x++) {
    const i = y * gw + x;
    const nl = Math.hypot(nxs[i]!, nys[i]!, nzs[i]!) || 1;
    const nx = nxs[i]! / nl;
    const ny = nys[i]! / nl;
    const nz = nzs[i]! / nl;
    let envK = 1;
    if (sh) {
      // camera space → the environment's: the camera looks along −z, turned by the yaw
      irradiance(sh, nx * cy - nz * sy, ny, nx * sy + nz * cy, e, basis);
      envK = Math.min(1.6, Math.max(0.4, (0.2126 * e[0]! + 0.7152 * e[1]! + 0.0722 * e[2]!) / envRef));
    }
    // wrapped Lambert: light reaches a little past the terminator, as it does on glazed ceramics
    const ndl = Math.max(0, (nx * L[0] + ny * L[1] + nz * L[2] + wrap) / (1 + wrap));
    const ndf = Math.max(0, (nx * F[0] + ny * F[1] + nz * F[2] + wrap) / (1 + wrap));
    shade[i] = ambient * envK + (1 - ambient) * (ndl * (1 - fill) + ndf * fill);
    // a hard key with the fill alone on its shade side: no wrap, no bounce card
    hard[i] = HARD_FILL * envK + (1 - HARD_FILL) * Math.max(0, (nx * L[0] + ny * L[1] + nz * L[2] + HARD_WRAP) / (1 + HARD_WRAP));
    edge[i] = (1 - nz) ** 1.5 * (rimSide === 0 ? 1 : Math.max(0, Math.sign(nx) * rimSide));
    if (m[i]! > 0.5) { inside.push(shade[i]!); insideHard.push(hard[i]!); }
  }
}
