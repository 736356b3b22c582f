import type { ScenePlan } from '../../contract/scene.js';
import { MATERIAL_DETAIL, MATERIALS } from '../../plan/presets.js';
import { decodeImage, resize } from '../codec.js';

/**
 * Micro-normals: the relief of a surface (slate's cleft layers, concrete's grain, linen's weave) from
 * the CC0 normal maps `@pmndrs/assets` ships, tiled over the surface plane in perspective. The map's
 * tilt is kept as two floats per texel (across and into depth) in a mip chain, so a pixel whose
 * footprint covers many texels reads their average tilt: far-off relief flattens instead of
 * flickering, as fine texture does in surface.ts. Decoded once per process.
 */

/** One level: tilt across (x) and into depth (z) per texel, interleaved. */
interface Level { data: Float32Array; size: number }

/** A decoded normal map: levels from 512 texels down to 1. */
export interface NormalMap { levels: Level[] }

const cache = new Map<string, Promise<NormalMap>>();
/** texels across the top level (the maps are shipped at 512×512) */
const SIZE = 512;

/** The named map (`'0015'`), decoded and mip-mapped once per process. */
export function loadNormalMap(id: string): Promise<NormalMap> {
  if (!/^\d{4}$/.test(id)) return Promise.reject(new Error(`Expected a normal map id of four digits for the material's relief but received ${id}`));
  let p = cache.get(id);
  if (!p) {
    p = decodeNormalMap(id);
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  return p;
}

async function decodeNormalMap(id: string): Promise<NormalMap> {
  const mod = (await import(`@pmndrs/assets/normals/${id}.webp.js`)) as { default: string };
  const uri = mod.default;
  const bytes = Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');
  let { image } = await decodeImage(bytes, { maxPixels: 4096 * 4096 });
  // a few maps are a texel or so off square (0007 is 501×512): stretched to the 512 the chain needs
  if (image.width !== SIZE || image.height !== SIZE) image = await resize(image, SIZE, SIZE, { kernel: 'cubic' });
  const { data } = image;
  const w = SIZE;
  const raw = new Float32Array(w * w * 2);
  for (let i = 0; i < w * w; i++) {
    // OpenGL convention: red to the right, green up the image (away from the camera on the floor)
    const x = data[i * 4]! / 127.5 - 1;
    const z = data[i * 4 + 1]! / 127.5 - 1;
    const y = Math.max(0.05, data[i * 4 + 2]! / 127.5 - 1);
    // stored as tilts (over the normal's height): they average linearly, which unit normals do not
    raw[i * 2] = x / y;
    raw[i * 2 + 1] = z / y;
  }
  const top = seamless(seamless(raw, w, true), w, false);
  // the maps' mean tilt is not quite zero (a texel's 8 bits, a slope in the source photograph):
  // removed, so a tiled surface does not lean toward one side
  let mx = 0, mz = 0;
  for (let i = 0; i < w * w; i++) { mx += top[i * 2]!; mz += top[i * 2 + 1]!; }
  mx /= w * w; mz /= w * w;
  for (let i = 0; i < w * w; i++) { top[i * 2]! -= mx; top[i * 2 + 1]! -= mz; }
  const levels: Level[] = [{ data: top, size: w }];
  for (let s = w / 2; s >= 1; s /= 2) {
    const prev = levels[levels.length - 1]!;
    const d = new Float32Array(s * s * 2);
    const ps = prev.size;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const a = ((2 * y) * ps + 2 * x) * 2;
        const b = a + ps * 2;
        const o = (y * s + x) * 2;
        d[o] = (prev.data[a]! + prev.data[a + 2]! + prev.data[b]! + prev.data[b + 2]!) / 4;
        d[o + 1] = (prev.data[a + 1]! + prev.data[a + 3]! + prev.data[b + 1]! + prev.data[b + 3]!) / 4;
      }
    }
    levels.push({ data: d, size: s });
  }
  return { levels };
}

/**
 * Most of the maps do not quite tile: their opposite edges differ more than neighbouring texels do
 * (a line across the surface every repeat, plain to see on the smooth ones, 0006 and 0007). Across
 * one axis at a time, each texel near an edge is blended toward the texel half a map away, whose
 * neighbourhood is continuous across that edge; the middle keeps the map as drawn. After both axes
 * the map wraps without a seam.
 */
function seamless(src: Float32Array, size: number, across: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const half = size / 2;
  const band = size / 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = across ? x : y;
      const edge = Math.min(t, size - 1 - t);
      const k = edge >= band ? 0 : 1 - edge / band;
      const m = k * k * (3 - 2 * k);
      const i = (y * size + x) * 2;
      const j = across ? (y * size + ((x + half) % size)) * 2 : (((y + half) % size) * size + x) * 2;
      out[i] = src[i]! + (src[j]! - src[i]!) * m;
      out[i + 1] = src[i + 1]! + (src[j + 1]! - src[i + 1]!) * m;
    }
  }
  return out;
}

/** Bilinear, wrapping: the slope pair at texel coordinates (u, v) of one level, added × w into out. */
function tap(level: Level, u: number, v: number, w: number, out: Float32Array): void {
  const s = level.size;
  const x = u - 0.5;
  const y = v - 0.5;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const m = s - 1;
  // s is a power of two: & wraps negatives too
  const xa = x0 & m, xb = (x0 + 1) & m, ya = y0 & m, yb = (y0 + 1) & m;
  const d = level.data;
  const i00 = (ya * s + xa) * 2, i10 = (ya * s + xb) * 2, i01 = (yb * s + xa) * 2, i11 = (yb * s + xb) * 2;
  const w00 = (1 - fx) * (1 - fy) * w, w10 = fx * (1 - fy) * w, w01 = (1 - fx) * fy * w, w11 = fx * fy * w;
  out[0]! += d[i00]! * w00 + d[i10]! * w10 + d[i01]! * w01 + d[i11]! * w11;
  out[1]! += d[i00 + 1]! * w00 + d[i10 + 1]! * w10 + d[i01 + 1]! * w01 + d[i11 + 1]! * w11;
}

/**
 * The surface's relief. `row(fp)` picks the map's levels for a row of pixels whose footprint is `fp`
 * product heights (the footprint is the same along a row of the surface); `at(X, Z, out)` then writes
 * the tilt of the surface's normal at a point of that row (X across, Z in depth, product heights):
 * out[0] across, out[1] into depth, the unit normal being (out[0], 1, out[1]) normalised, y up.
 */
export interface Relief {
  row(fp: number): void;
  at(X: number, Z: number, out: Float32Array): void;
  /** `at` for the points `Xs[0..n)` of the row at depth Z: tilts across into `tx`, into depth into `tz` */
  rowAt(Xs: Float64Array, n: number, Z: number, tx: Float32Array, tz: Float32Array): void;
}

/** The plan's surface relief (the material's preset normal map, tiling and strength), or null. */
export async function createRelief(surface: ScenePlan['surface']): Promise<Relief | null> {
  const d = MATERIAL_DETAIL[surface.material];
  if (!d.normal || d.strength <= 0) return null;
  const map = await loadNormalMap(d.normal);
  const levels = map.levels;
  const top = levels[0]!.size;
  const last = levels.length - 1;
  const perUnit = top / d.tile;
  const k = d.strength;
  const turn = d.turn === true;
  let a = levels[0]!;
  let b: Level | null = null;
  let sa = 1;
  let sb = 1;
  let t = 0;
  const acc = new Float32Array(2);
  const tilt = (X: number, Z: number, out: Float32Array) => {
    // the map's u along X and its rows toward the camera; a turned map's rows run along X
    const u = turn ? Z : X;
    const v = turn ? X : -Z;
    out[0] = 0; out[1] = 0;
    tap(a, u * sa, v * sa, b ? 1 - t : 1, out);
    if (b) tap(b, u * sb, v * sb, t, out);
    // the map's tilt is toward +u and up the image (−v)
    const tu = out[0]! * k;
    const tv = out[1]! * k;
    if (turn) { out[0] = -tv; out[1] = tu; } else { out[0] = tu; out[1] = tv; }
  };
  return {
    row(fp) {
      const lod = Math.log2(Math.max(1, fp * perUnit));
      const l0 = Math.min(last, Math.floor(lod));
      a = levels[l0]!;
      sa = (a.size / top) * perUnit;
      t = l0 < last ? Math.min(1, lod - l0) : 0;
      b = t > 0.02 ? levels[l0 + 1]! : null;
      sb = b ? (b.size / top) * perUnit : 1;
    },
    at(X, Z, out) {
      tilt(X, Z, out);
    },
    rowAt(Xs, n, Z, tx, tz) {
      for (let i = 0; i < n; i++) {
        tilt(Xs[i]!, Z, acc);
        tx[i] = acc[0]!;
        tz[i] = acc[1]!;
      }
    },
  };
}

/** The material's roughness for the plan's gloss: its preset's, moved by a finish word's change of gloss. */
export function roughnessOf(surface: ScenePlan['surface']): number {
  const d = MATERIAL_DETAIL[surface.material];
  const g0 = MATERIALS[surface.material].gloss;
  return Math.min(1, Math.max(0.02, d.roughness + (g0 - surface.gloss) * 1.3));
}
