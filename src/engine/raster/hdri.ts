import { SRGB_STEPS, srgbTable } from './color.js';
import type { Rgb8 } from './types.js';

/**
 * Real environments: the 18 CC0 HDR photographs that `@pmndrs/assets` ships (512×256 equirectangular
 * OpenEXR, half floats, DWAB-compressed), decoded with three.js's EXR reader into linear RGB, and
 * views of them through a pinhole camera. Used for backdrops and image-based light (scene/, light/)
 * and for the cutout's composite evaluation set (bench/).
 */

export const ENVIRONMENT_NAMES = [
  'apartment', 'bridge', 'city', 'dawn', 'esplanade', 'forest', 'hall', 'lab', 'lobby',
  'night', 'park', 'sky', 'studio', 'sunrise', 'sunset', 'venice', 'warehouse', 'workshop',
] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** linear-light RGB floats, 3 per pixel, row 0 at the top */
export interface Hdr {
  data: Float32Array;
  width: number;
  height: number;
}

const cache = new Map<EnvironmentName, Promise<Hdr>>();

/** The named environment as an equirectangular image: row 0 looks straight up, column 0 faces −Z. */
export function loadEnvironment(name: EnvironmentName): Promise<Hdr> {
  if (!ENVIRONMENT_NAMES.includes(name)) {
    return Promise.reject(new Error(`Expected an environment name (${ENVIRONMENT_NAMES.join(', ')}) but received ${name}`));
  }
  let p = cache.get(name);
  if (!p) {
    p = decodeEnvironment(name);
    cache.set(name, p);
    p.catch(() => cache.delete(name));
  }
  return p;
}

async function decodeEnvironment(name: EnvironmentName): Promise<Hdr> {
  const mod = (await import(`@pmndrs/assets/hdri/${name}.exr.js`)) as { default: string };
  const uri = mod.default;
  const bytes = Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');
  return decodeExr(bytes);
}

/**
 * three.js's EXR reader, imported when first needed. A dynamic import stays an ES module import even
 * where tsx loads this file through `require` (the engine threads run from source in tests and dev):
 * a static import there became `require('three')`, which three.js answers with THREE_CJS_DEPRECATED.
 */
let exrReader: Promise<{ EXRLoader: typeof import('three/examples/jsm/loaders/EXRLoader.js').EXRLoader; FloatType: typeof import('three').FloatType }> | null = null;
function loadExrReader() {
  exrReader ??= Promise.all([import('three/examples/jsm/loaders/EXRLoader.js'), import('three')]).then(([exr, three]) => ({ EXRLoader: exr.EXRLoader, FloatType: three.FloatType }));
  return exrReader;
}

/** Decodes an OpenEXR file (any compression three.js reads) into linear RGB, top row first. */
export async function decodeExr(bytes: Uint8Array): Promise<Hdr> {
  const { EXRLoader, FloatType } = await loadExrReader();
  const loader = new EXRLoader();
  loader.setDataType(FloatType);
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = loader.parse(copy) as { data: Float32Array; width: number; height: number };
  const { width, height } = parsed;
  const src = parsed.data;
  const stride = src.length / (width * height);
  const data = new Float32Array(width * height * 3);
  // the reader returns rows bottom-up (GL order); flip to top-down like every other raster here
  for (let y = 0; y < height; y++) {
    const sy = height - 1 - y;
    for (let x = 0; x < width; x++) {
      const s = (sy * width + x) * stride;
      const d = (y * width + x) * 3;
      data[d] = Math.max(0, src[s]!);
      data[d + 1] = Math.max(0, src[s + 1]!);
      data[d + 2] = Math.max(0, src[s + 2]!);
    }
  }
  return { data, width, height };
}

/**
 * Radiance arriving from direction (dx, dy, dz) (y up, the camera's default view along −Z), bilinear
 * in the equirectangular map, written into out[o..o+2].
 */
export function sampleDirection(env: Hdr, dx: number, dy: number, dz: number, out: Float32Array | number[], o = 0): void {
  const len = Math.hypot(dx, dy, dz) || 1;
  const u = (Math.atan2(dx, -dz) / (2 * Math.PI) + 0.5) * env.width - 0.5;
  const v = (Math.acos(Math.max(-1, Math.min(1, dy / len))) / Math.PI) * env.height - 0.5;
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const fx = u - x0;
  const fy = v - y0;
  const w = env.width;
  const h = env.height;
  const xa = ((x0 % w) + w) % w;
  const xb = (xa + 1) % w;
  const ya = Math.max(0, Math.min(h - 1, y0));
  const yb = Math.max(0, Math.min(h - 1, y0 + 1));
  const d = env.data;
  const i00 = (ya * w + xa) * 3, i10 = (ya * w + xb) * 3, i01 = (yb * w + xa) * 3, i11 = (yb * w + xb) * 3;
  for (let c = 0; c < 3; c++) {
    const top = d[i00 + c]! * (1 - fx) + d[i10 + c]! * fx;
    const bottom = d[i01 + c]! * (1 - fx) + d[i11 + c]! * fx;
    out[o + c] = top * (1 - fy) + bottom * fy;
  }
}

export interface View {
  width: number;
  height: number;
  /** turn to the right, degrees (0 faces the map's centre column) */
  yaw: number;
  /** tilt up, degrees (negative looks down) */
  pitch: number;
  /** horizontal field of view, degrees */
  fov: number;
}

/** What a pinhole camera standing at the environment's centre sees: linear RGB. */
export function reproject(env: Hdr, view: View): Hdr {
  const { width, height } = view;
  const data = new Float32Array(width * height * 3);
  const yaw = (view.yaw * Math.PI) / 180;
  const pitch = (view.pitch * Math.PI) / 180;
  const f = width / 2 / Math.tan((view.fov * Math.PI) / 360);
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  for (let y = 0; y < height; y++) {
    const py = -(y + 0.5 - height / 2) / f;
    for (let x = 0; x < width; x++) {
      const px = (x + 0.5 - width / 2) / f;
      // camera ray (px, py, −1), pitched about X, then turned about Y
      const ry = py * cp + sp;
      const rz0 = py * sp - cp;
      const rx = px * cy - rz0 * sy;
      const rz = px * sy + rz0 * cy;
      sampleDirection(env, rx, ry, rz, data, (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

/** Linear radiance × exposure → 8-bit sRGB, with a soft shoulder instead of a hard clip. */
export function toSrgb8(hdr: Hdr, exposure = 1): Rgb8 {
  const n = hdr.width * hdr.height * 3;
  const out = Buffer.alloc(n);
  const table = srgbTable();
  for (let i = 0; i < n; i++) {
    const v = hdr.data[i]! * exposure;
    // identity to 0.8, then a shoulder that reaches 1 asymptotically (x / (1 + x) above the knee)
    const x = (v - 0.8) / 0.2;
    const t = v <= 0.8 ? v : 0.8 + (0.2 * x) / (1 + x);
    out[i] = table[Math.min(SRGB_STEPS, Math.round(t * SRGB_STEPS))]!;
  }
  return { data: out, width: hdr.width, height: hdr.height, channels: 3 };
}

/** Mean radiance (linear RGB) over the whole map, weighted by solid angle. */
export function meanRadiance(env: Hdr): [number, number, number] {
  const sum = [0, 0, 0];
  let wsum = 0;
  for (let y = 0; y < env.height; y++) {
    const w = Math.sin(((y + 0.5) / env.height) * Math.PI);
    for (let x = 0; x < env.width; x++) {
      const i = (y * env.width + x) * 3;
      sum[0]! += env.data[i]! * w; sum[1]! += env.data[i + 1]! * w; sum[2]! += env.data[i + 2]! * w;
      wsum += w;
    }
  }
  return [sum[0]! / wsum, sum[1]! / wsum, sum[2]! / wsum];
}
