/**
 * Seeded randomness and tileable value noise. Everything procedural in the studio draws from here,
 * so the same seed always gives the same pixels.
 */

/** mulberry32: small, fast, good enough for procedural textures. Returns floats in [0, 1). */
export function createRng(seed: number, salt = 0): () => number {
  let a = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A periodic noise field of size×size, values roughly in [-1, 1], sampled with wrap-around. */
export interface NoiseField {
  size: number;
  data: Float32Array;
}

/**
 * Fields already built, by everything that determines them (seed, salt, size, cells, octaves, gain),
 * least recently used first: a render reads the same few fields (surface, backdrop, wisps) for its
 * seed, and building one costs a few milliseconds at 256². Per thread (each engine worker has its own).
 */
const fieldCache = new Map<string, NoiseField>();
/** the cache's bound in bytes per thread (a 256² field is 256 KB) */
const FIELD_CACHE_BYTES = 16 << 20;
let fieldCacheBytes = 0;

/**
 * Fractal value noise: `octaves` layers, each twice the frequency and `gain` times the amplitude.
 * `size` must be a power of two. The field is shared with later calls for the same arguments: read
 * it, never write it.
 */
export function fbmField(seed: number, salt: number, size = 256, baseCells = 4, octaves = 5, gain = 0.5): NoiseField {
  const key = `${seed}:${salt}:${size}:${baseCells}:${octaves}:${gain}`;
  const hit = fieldCache.get(key);
  if (hit) {
    fieldCache.delete(key);
    fieldCache.set(key, hit);
    return hit;
  }
  const field = buildField(seed, salt, size, baseCells, octaves, gain);
  fieldCache.set(key, field);
  fieldCacheBytes += field.data.byteLength;
  for (const [k, f] of fieldCache) {
    if (fieldCacheBytes <= FIELD_CACHE_BYTES || k === key) break;
    fieldCache.delete(k);
    fieldCacheBytes -= f.data.byteLength;
  }
  return field;
}

function buildField(seed: number, salt: number, size: number, baseCells: number, octaves: number, gain: number): NoiseField {
  if (size < 1 || (size & (size - 1)) !== 0) throw new RangeError(`noise field size ${size} is not a power of two`);
  const rng = createRng(seed, salt);
  const out = new Float32Array(size * size);
  const col0 = new Int32Array(size);
  const col1 = new Int32Array(size);
  const colW = new Float64Array(size);
  let amp = 1;
  let norm = 0;
  for (let o = 0, cells = baseCells; o < octaves && cells <= size; o++, cells *= 2) {
    const grid = new Float32Array(cells * cells);
    for (let i = 0; i < grid.length; i++) grid[i] = rng() * 2 - 1;
    const step = cells / size;
    // the column's cells and weight are the same on every row
    for (let x = 0; x < size; x++) {
      const gx = x * step;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      col0[x] = x0 % cells;
      col1[x] = (x0 + 1) % cells;
      colW[x] = fx * fx * (3 - 2 * fx);
    }
    for (let y = 0; y < size; y++) {
      const gy = y * step;
      const y0 = Math.floor(gy);
      let fy = gy - y0;
      fy = fy * fy * (3 - 2 * fy);
      const r0 = (y0 % cells) * cells;
      const r1 = ((y0 + 1) % cells) * cells;
      for (let x = 0, row = y * size; x < size; x++) {
        const c0 = col0[x]!;
        const c1 = col1[x]!;
        const fx = colW[x]!;
        const top = grid[r0 + c0]! + (grid[r0 + c1]! - grid[r0 + c0]!) * fx;
        const bot = grid[r1 + c0]! + (grid[r1 + c1]! - grid[r1 + c0]!) * fx;
        out[row + x]! += (top + (bot - top) * fy) * amp;
      }
    }
    norm += amp;
    amp *= gain;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm * 1.6;
  return { size, data: out };
}

/** Bilinear sample with wrap-around; (u, v) in field pixels. */
export function sample(f: NoiseField, u: number, v: number): number {
  const s = f.size;
  const mask = s - 1;
  const fu = Math.floor(u);
  const fv = Math.floor(v);
  const tx = u - fu;
  const ty = v - fv;
  // sizes are powers of two, and `&` on an integral double wraps modulo 2^32, which the size
  // divides: the same cell as ((fu % s) + s) % s for any coordinate, without two divisions
  const x0 = fu & mask;
  const y0 = fv & mask;
  const x1 = (x0 + 1) & mask;
  const y1 = (y0 + 1) & mask;
  const d = f.data;
  const a = d[y0 * s + x0]!;
  const b = d[y0 * s + x1]!;
  const c = d[y1 * s + x0]!;
  const e = d[y1 * s + x1]!;
  return a + (b - a) * tx + (c - a) * ty + (a - b - c + e) * tx * ty;
}

export const smoothstep = (e0: number, e1: number, x: number): number => {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
};

export const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
