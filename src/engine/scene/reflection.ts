import type { EnvironmentName, Hdr } from '../raster/hdri.js';
import { discRadius, pitchFor, prepareEnvironment, type EnvironmentLook } from './environment.js';

/**
 * What a glossy surface mirrors, and how much. A surface reflects the place around it: the
 * photograph's environment (its HDR map, prefiltered into a chain of ever blurrier copies, one per
 * roughness step, as real-time renderers do) or, on a studio set, the backdrop itself mirrored about
 * the horizon and blurred by the surface's roughness. The amount is Fresnel's (Schlick's
 * approximation, damped by roughness as in Karis 2013): a few per cent looking down onto stone or
 * wood, most of the light at a grazing angle, so the far part of a polished table mirrors the room
 * and its near part shows its own colour. A rough surface spreads the reflection into its average
 * and caps its grazing reflectance, which is what makes linen or concrete mirror nothing visible.
 */

/** Radians of reflected angle one texel of the prefiltered map's top level spans. */
const TEXEL = (2 * Math.PI) / 512;
/** Levels below the photograph's own 512×256: 256 … 8 texels across. */
const LEVELS = 6;

/** The reflection lobe's radius in radians for a roughness (GGX's α = r², about one lobe width). */
export const lobe = (roughness: number) => roughness * roughness;

/** Schlick's Fresnel with the roughness damping: reflectance at cosθ (view against normal). */
export function fresnel(cos: number, f0: number, roughness: number): number {
  const c = 1 - Math.min(1, Math.max(0, cos));
  const c2 = c * c;
  return f0 + (Math.max(1 - roughness, f0) - f0) * c2 * c2 * c;
}

const chains = new Map<EnvironmentName, Promise<Hdr[]>>();

/**
 * The photograph's prefiltered chain: level 0 the map itself, each next level half the size, box
 * averaged and then blurred with a [1 2 1] kernel (wrapping around the horizon), so level k holds the
 * environment seen through a lobe of about 2^k texels. Cached per process.
 */
export function prefilteredEnvironment(name: EnvironmentName): Promise<Hdr[]> {
  let p = chains.get(name);
  if (!p) {
    p = prepareEnvironment(name).then((env) => buildChain(env.hdr));
    chains.set(name, p);
    p.catch(() => chains.delete(name));
  }
  return p;
}

export function buildChain(top: Hdr): Hdr[] {
  const levels: Hdr[] = [top];
  for (let k = 1; k <= LEVELS; k++) {
    const prev = levels[k - 1]!;
    const w = Math.max(2, prev.width >> 1);
    const h = Math.max(1, prev.height >> 1);
    const half = new Float32Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        for (let dy = 0; dy < 2; dy++) {
          const sy = Math.min(prev.height - 1, 2 * y + dy);
          for (let dx = 0; dx < 2; dx++) {
            const s = (sy * prev.width + Math.min(prev.width - 1, 2 * x + dx)) * 3;
            half[o]! += prev.data[s]! / 4; half[o + 1]! += prev.data[s + 1]! / 4; half[o + 2]! += prev.data[s + 2]! / 4;
          }
        }
      }
    }
    // [1 2 1] across (wrapping: the map's left and right edges meet) and down (clamped at the poles)
    const across = new Float32Array(half.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const l = (y * w + ((x - 1 + w) % w)) * 3, c = (y * w + x) * 3, r = (y * w + ((x + 1) % w)) * 3;
        for (let ch = 0; ch < 3; ch++) across[c + ch] = (half[l + ch]! + 2 * half[c + ch]! + half[r + ch]!) / 4;
      }
    }
    const data = new Float32Array(half.length);
    for (let y = 0; y < h; y++) {
      const u = Math.max(0, y - 1), d = Math.min(h - 1, y + 1);
      for (let x = 0; x < w; x++) {
        const c = (y * w + x) * 3;
        for (let ch = 0; ch < 3; ch++) data[c + ch] = (across[(u * w + x) * 3 + ch]! + 2 * across[c + ch]! + across[(d * w + x) * 3 + ch]!) / 4;
      }
    }
    levels.push({ data, width: w, height: h });
  }
  return levels;
}

/** Bilinear in one level at the map coordinates (fractions of width and height), added × k into out. */
function tapLevel(env: Hdr, fu: number, fv: number, k: number, out: Float32Array): void {
  const w = env.width, h = env.height;
  const u = fu * w - 0.5;
  const v = fv * h - 0.5;
  const x0 = Math.floor(u), y0 = Math.floor(v);
  const fx = u - x0, fy = v - y0;
  const xa = ((x0 % w) + w) % w, xb = (xa + 1) % w;
  const ya = Math.max(0, Math.min(h - 1, y0)), yb = Math.max(0, Math.min(h - 1, y0 + 1));
  const d = env.data;
  const i00 = (ya * w + xa) * 3, i10 = (ya * w + xb) * 3, i01 = (yb * w + xa) * 3, i11 = (yb * w + xb) * 3;
  const w00 = (1 - fx) * (1 - fy) * k, w10 = fx * (1 - fy) * k, w01 = (1 - fx) * fy * k, w11 = fx * fy * k;
  for (let c = 0; c < 3; c++) out[c]! += d[i00 + c]! * w00 + d[i10 + c]! * w10 + d[i01 + c]! * w01 + d[i11 + c]! * w11;
}

/** Radiance from direction (x, y, z) (environment frame, y up) through a lobe of `lod` levels: into out. */
export function sampleChain(chain: Hdr[], x: number, y: number, z: number, lod: number, out: Float32Array): void {
  const len = Math.hypot(x, y, z) || 1;
  const fu = Math.atan2(x, -z) / (2 * Math.PI) + 0.5;
  const fv = Math.acos(Math.max(-1, Math.min(1, y / len))) / Math.PI;
  out[0] = 0; out[1] = 0; out[2] = 0;
  const l = Math.max(0, Math.min(chain.length - 1, lod));
  const l0 = Math.floor(l);
  const t = l - l0;
  tapLevel(chain[l0]!, fu, fv, 1 - t, out);
  if (t > 0 && l0 + 1 < chain.length) tapLevel(chain[l0 + 1]!, fu, fv, t, out);
}

/**
 * The reflection seen along a row of the working frame. `row(y)` traces the row's reflected rays off
 * the flat surface every few pixels (the reflection is at least as soft as the backdrop's lens blur,
 * so a coarser trace loses nothing); `at(x, tx, tz, out)` writes the reflected radiance at pixel x,
 * interpolated, and returns cosθ between the view ray and the surface's normal tilted by the relief
 * (normals.ts), which is what Fresnel's term takes: the relief shows in a reflection as the facets
 * catching more or less of it.
 */
export interface Reflector {
  row(y: number): void;
  at(x: number, tx: number, tz: number, out: Float32Array): number;
  /** `at` for pixels 0..n of the row, tilts from `tx`/`tz` (null: flat): radiance into `out` (three floats a pixel), cosθ into `cos` */
  rowAt(n: number, tx: Float32Array | null, tz: Float32Array | null, out: Float32Array, cos: Float64Array): void;
}

/**
 * Columns between traced reflections along a row: half the reflection's blur in pixels, from 2 (a
 * mirror) to 8 (the blur of a satin surface or a lens wide open is tens of pixels across).
 */
const stepFor = (blurPx: number) => Math.max(2, Math.min(8, Math.floor(blurPx / 2)));

/**
 * A reflector from a per-ray tracer: `trace(x, y, out)` writes the radiance mirrored at pixel (x, y)
 * by the flat surface; `view(y)` gives the row's view rays: at pixel x the direction is
 * ((x + 0.5 − cx) / f, dy, dz), not normalised, with the surface's depth axis along −z.
 */
function rowReflector(W: number, step: number, trace: (x: number, y: number, out: Float32Array) => void, view: (y: number) => { f: number; cx: number; dy: number; dz: number }): Reflector {
  const n = Math.ceil((W - 1) / step) + 2;
  const traced = new Float32Array(n * 3);
  const one = new Float32Array(3);
  let ray = { f: 1, cx: 0, dy: 0, dz: -1 };
  const at = (x: number, tx: number, tz: number, out: Float32Array, o: number): number => {
    const k = Math.floor(x / step);
    const f = x / step - k;
    const i = k * 3;
    out[o] = traced[i]! + (traced[i + 3]! - traced[i]!) * f;
    out[o + 1] = traced[i + 1]! + (traced[i + 4]! - traced[i + 1]!) * f;
    out[o + 2] = traced[i + 2]! + (traced[i + 5]! - traced[i + 2]!) * f;
    // cosθ against the tilted normal (tx, 1, tz) (depth along −z)
    const dx = (x + 0.5 - ray.cx) / ray.f;
    const il = 1 / Math.sqrt(dx * dx + ray.dy * ray.dy + ray.dz * ray.dz);
    const nl = 1 / Math.sqrt(tx * tx + 1 + tz * tz);
    return -(dx * tx + ray.dy - ray.dz * tz) * il * nl;
  };
  return {
    row(y) {
      for (let k = 0; k < n; k++) {
        trace(Math.min(W - 1, k * step), y, one);
        traced[k * 3] = one[0]!; traced[k * 3 + 1] = one[1]!; traced[k * 3 + 2] = one[2]!;
      }
      ray = view(y);
    },
    at(x, tx, tz, out) {
      return at(x, tx, tz, out, 0);
    },
    rowAt(count, tx, tz, out, cos) {
      for (let x = 0; x < count; x++) cos[x] = at(x, tx ? tx[x]! : 0, tz ? tz[x]! : 0, out, x * 3);
    },
  };
}

export interface ReflectorInput {
  width: number;
  height: number;
  /** the set's horizon and the far edge of the surface, working rows */
  vanishY: number;
  edgeY: number;
  /** the set camera's focal length in working pixels */
  focal: number;
  roughness: number;
  /** the backdrop as rendered (linear RGB at width × height), before the surface is drawn over it */
  backdrop: Float32Array;
  /** the photograph behind the set and the backdrop's blur (plan.backdrop.blur with its bokeh), if any */
  photo?: { look: EnvironmentLook; blur: number } | null;
}

/**
 * The reflector for a render. With a photograph: its prefiltered environment in the reflected
 * direction of the photograph's own camera (so the mirrored room lines up with the room behind the
 * set), at the blur of the roughness or the backdrop's lens blur, whichever is wider, exposed to
 * match the backdrop as rendered. Without: the backdrop mirrored about the horizon, blurred by the
 * roughness.
 */
export async function createReflector(input: ReflectorInput): Promise<Reflector> {
  return input.photo ? environmentReflector(input, input.photo) : backdropReflector(input);
}

async function environmentReflector(input: ReflectorInput, photo: { look: EnvironmentLook; blur: number }): Promise<Reflector> {
  const { width: W, height: H } = input;
  const chain = await prefilteredEnvironment(photo.look.hdri);
  const fov = photo.look.photo.fov;
  const f = W / 2 / Math.tan((fov * Math.PI) / 360);
  const pitch = (pitchFor(input.vanishY, H, W, fov) * Math.PI) / 180;
  const yaw = (photo.look.yaw * Math.PI) / 180;
  const cp = Math.cos(pitch), sp = Math.sin(pitch), cy = Math.cos(yaw), sy = Math.sin(yaw);
  // the lens blur's disc as an angle, in levels of the chain: a reflection is no sharper than the room
  const disc = discRadius(photo.blur, W, H) / f;
  const lod = Math.log2(Math.max(1, Math.max(lobe(input.roughness), disc) / TEXEL));
  // exposure: the backdrop's rows above the surface against the map seen in the same directions
  const gain = calibrate(input, (x, y, out) => {
    const px = (x + 0.5 - W / 2) / f;
    const py = -(y + 0.5 - H / 2) / f;
    const ry = py * cp + sp;
    const rz0 = py * sp - cp;
    sampleChain(chain, px * cy - rz0 * sy, ry, px * sy + rz0 * cy, Math.max(lod, 3), out);
  });
  const trace = (x: number, y: number, out: Float32Array) => {
    const px = (x + 0.5 - W / 2) / f;
    const py = -(y + 0.5 - H / 2) / f;
    // the camera ray (px, py, −1) pitched about X, in the camera's unturned frame, mirrored in the
    // ground plane (y up), then turned by the look's yaw
    const dy = py * cp + sp;
    const dz = py * sp - cp;
    const ry = Math.max(0.002 * Math.hypot(px, dy, dz), -dy);
    sampleChain(chain, px * cy - dz * sy, ry, px * sy + dz * cy, lod, out);
    out[0]! *= gain[0]; out[1]! *= gain[1]; out[2]! *= gain[2];
  };
  return rowReflector(W, stepFor(Math.max(lobe(input.roughness), disc) * f), trace, (y) => {
    const py = -(y + 0.5 - H / 2) / f;
    return { f, cx: W / 2, dy: py * cp + sp, dz: py * sp - cp };
  });
}

/** Per-channel gains that take the map's radiance to the backdrop's rendered values, over the rows above the surface. */
function calibrate(input: ReflectorInput, seen: (x: number, y: number, out: Float32Array) => void): [number, number, number] {
  const { width: W, height: H, backdrop } = input;
  const rows = Math.max(1, Math.min(H, Math.floor(input.edgeY)));
  const a = [0, 0, 0];
  const b = [0, 0, 0];
  const s = new Float32Array(3);
  for (let j = 0; j < 12; j++) {
    const y = Math.floor(((j + 0.5) / 12) * rows);
    for (let i = 0; i < 24; i++) {
      const x = Math.floor(((i + 0.5) / 24) * W);
      seen(x, y, s);
      const p = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) { a[c]! += backdrop[p + c]!; b[c]! += s[c]!; }
    }
  }
  return [a[0]! / Math.max(1e-6, b[0]!), a[1]! / Math.max(1e-6, b[1]!), a[2]! / Math.max(1e-6, b[2]!)];
}

/** How much smaller the blurred backdrop copy is than the working frame. */
const SHRINK = 4;

function backdropReflector(input: ReflectorInput): Reflector {
  const { width: W, height: H, vanishY } = input;
  const f = input.focal;
  // the backdrop above the surface's edge (all a mirror image shows) at a quarter size, blurred by
  // the lobe's width (in those pixels) with three box passes
  const rows = Math.max(1, Math.min(H, Math.ceil(input.edgeY) + 1));
  const w = Math.max(1, Math.ceil(W / SHRINK));
  const h = Math.max(1, Math.ceil(rows / SHRINK));
  const small = shrink(input.backdrop, W, rows, w, h);
  const sigma = (lobe(input.roughness) * f) / SHRINK;
  const blurred = boxBlur3(small, w, h, sigma);
  const top = Math.max(0, Math.min(h - 1, input.edgeY / SHRINK));
  const trace = (x: number, y: number, out: Float32Array) => {
    // the set camera's ray through the pixel, its horizon on vanishY (pitch left out: small),
    // mirrored in the ground, and back onto the image where that direction is seen above the horizon
    const dy = -(y + 0.5 - vanishY) / f;
    const u = (x + 0.5) / SHRINK - 0.5;
    const v = Math.min(top, Math.max(0, (vanishY + f * dy) / SHRINK - 0.5));
    bilinear(blurred, w, h, u, v, out);
  };
  return rowReflector(W, stepFor(lobe(input.roughness) * f), trace, (y) => ({ f, cx: W / 2, dy: -(y + 0.5 - vanishY) / f, dz: -1 }));
}

/** Box average of SHRINK × SHRINK blocks (partial blocks at the edges averaged over what they hold). */
function shrink(src: Float32Array, W: number, H: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  for (let by = 0; by < h; by++) {
    const y0 = by * SHRINK;
    const y1 = Math.min(H, y0 + SHRINK);
    for (let bx = 0; bx < w; bx++) {
      const x0 = bx * SHRINK;
      const x1 = Math.min(W, x0 + SHRINK);
      let r = 0, g = 0, b = 0;
      for (let y = y0; y < y1; y++) {
        for (let i = (y * W + x0) * 3, end = (y * W + x1) * 3; i < end; i += 3) { r += src[i]!; g += src[i + 1]!; b += src[i + 2]!; }
      }
      const inv = 1 / Math.max(1, (y1 - y0) * (x1 - x0));
      const o = (by * w + bx) * 3;
      out[o] = r * inv; out[o + 1] = g * inv; out[o + 2] = b * inv;
    }
  }
  return out;
}

/** Three box passes each way: close to a gaussian of this sigma (edges clamped). */
function boxBlur3(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const r = Math.round(Math.sqrt((12 * sigma * sigma) / 3 + 1) / 2 - 0.5);
  if (r < 1) return src;
  const a = Float32Array.from(src);
  const b = new Float32Array(src.length);
  for (let pass = 0; pass < 3; pass++) {
    boxLine(a, b, w, h, r, true);
    boxLine(b, a, w, h, r, false);
  }
  return a;
}

/** One box pass of radius r along rows (across) or columns, clamped at the edges. */
function boxLine(src: Float32Array, dst: Float32Array, w: number, h: number, r: number, across: boolean): void {
  const n = across ? w : h;
  const lines = across ? h : w;
  const step = across ? 3 : w * 3;
  const inv = 1 / (2 * r + 1);
  for (let l = 0; l < lines; l++) {
    const base = across ? l * w * 3 : l * 3;
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let k = -r; k <= r; k++) sum += src[base + Math.min(n - 1, Math.max(0, k)) * step + c]!;
      for (let i = 0; i < n; i++) {
        dst[base + i * step + c] = sum * inv;
        sum += src[base + Math.min(n - 1, i + r + 1) * step + c]! - src[base + Math.max(0, i - r) * step + c]!;
      }
    }
  }
}

function bilinear(src: Float32Array, w: number, h: number, u: number, v: number, out: Float32Array): void {
  const x = Math.max(0, Math.min(w - 1, u));
  const y = Math.max(0, Math.min(h - 1, v));
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const x1 = Math.min(w - 1, x0 + 1), y1 = Math.min(h - 1, y0 + 1);
  const fx = x - x0, fy = y - y0;
  for (let c = 0; c < 3; c++) {
    const t = src[(y0 * w + x0) * 3 + c]! * (1 - fx) + src[(y0 * w + x1) * 3 + c]! * fx;
    const b = src[(y1 * w + x0) * 3 + c]! * (1 - fx) + src[(y1 * w + x1) * 3 + c]! * fx;
    out[c] = t + (b - t) * fy;
  }
}
