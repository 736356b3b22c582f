import type { ScenePlan } from '../../contract/scene.js';
import { hexToLinear } from '../raster/color.js';
import { clamp01, createRng, fbmField, sample, smoothstep, type NoiseField } from '../raster/noise.js';

/**
 * Procedural surface materials. A shader maps a point on the surface (X across, Z in depth, in
 * product heights, both 0 under the product) to a linear-RGB albedo. `fp` is the footprint of one pixel in the same units:
 * detail finer than a pixel fades out instead of aliasing, which is also what makes distant
 * texture look soft.
 */
export type Shader = (X: number, Z: number, fp: number, out: Float32Array) => void;

/** How much of a detail of period `period` survives at footprint `fp` (0 = fully averaged away). */
const keep = (period: number, fp: number) => clamp01(1.5 - (2.2 * fp) / period);

interface Fields { a: NoiseField; b: NoiseField; c: NoiseField }

function fields(seed: number): Fields {
  return { a: fbmField(seed, 11, 256, 4, 5), b: fbmField(seed, 12, 256, 8, 4), c: fbmField(seed, 13, 128, 16, 3) };
}

/**
 * A row of surface points at one depth: `Xs[0..n)` across, `Z` in depth, `fp` the row's footprint;
 * the albedos go to `out` three floats a point. The studio shades a whole row per call, so the
 * per-point values never leave the loop (a call per pixel boxed its numbers: garbage by the megabyte).
 */
export type RowShader = (Xs: Float64Array, n: number, Z: number, fp: number, out: Float32Array) => void;

/** The shader at one point (a row of one). */
export function createSurfaceShader(surface: ScenePlan['surface'], seed: number): Shader {
  const row = createSurfaceRowShader(surface, seed);
  const xs = new Float64Array(1);
  return (X, Z, fp, out) => {
    xs[0] = X;
    row(xs, 1, Z, fp, out);
  };
}

export function createSurfaceRowShader(surface: ScenePlan['surface'], seed: number): RowShader {
  const base = hexToLinear(surface.color);
  const n = fields(seed);
  const rng = createRng(seed, 17);
  const [br, bg, bb] = base;
  // 256 noise pixels span `span` product heights for the broad layers.
  const S = 256;
  switch (surface.material) {
    case 'slate':
      return (Xs, count, Z, fp, out) => {
        const k25 = keep(0.25, fp), k03 = keep(0.03, fp), k4 = keep(0.4, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const broad = sample(n.a, X * S * 0.22, Z * S * 0.22);
          const mid = sample(n.b, X * S * 0.9, Z * S * 0.6) * k25;
          const fine = sample(n.c, X * S * 4, Z * S * 4) * k03;
          // cleft layers: faint lighter bands running across
          const band = Math.sin((Z * 7 + X * 0.8 + broad * 1.4) * 3.1) * k4;
          const m = 1 + broad * 0.24 + mid * 0.12 + fine * 0.09 + band * 0.05;
          const o = i * 3;
          out[o] = br * m * (1 - broad * 0.03);
          out[o + 1] = bg * m;
          out[o + 2] = bb * m * (1 + broad * 0.05);
        }
      };
    case 'marble': {
      // Veins are the zero lines of a low-frequency noise stretched along one direction (long,
      // meandering, rarely parallel), each a thin grey core in a soft haze; a second, finer family
      // branches off at another angle; cloudy grey drifts lie between them.
      const dark = br < 0.2;
      const angle = rng() * Math.PI;
      const ca = Math.cos(angle);
      const sa = Math.sin(angle);
      const cb = Math.cos(angle + 1.1);
      const sb = Math.sin(angle + 1.1);
      return (Xs, count, Z, fp, out) => {
        const width = 0.02 + fp * 1.5;
        const k02 = keep(0.02, fp), k015 = keep(0.015, fp), k04 = keep(0.04, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const u = X * ca + Z * sa;
          const v = -X * sa + Z * ca;
          const warp = sample(n.b, X * S * 0.35, Z * S * 0.35) * 0.35;
          const main = Math.abs(sample(n.a, u * S * 0.07 + 31, (v + warp) * S * 0.3 + 17));
          const core = Math.exp(-((main / width) ** 2)) * k02;
          const haze = Math.exp(-((main / (width * 6)) ** 2));
          const u2 = X * cb + Z * sb;
          const v2 = -X * sb + Z * cb;
          const fine = Math.abs(sample(n.c, u2 * S * 0.2 + 7, (v2 + warp) * S * 0.8 + 3));
          const branch = Math.exp(-((fine / (0.025 + fp * 2)) ** 2)) * k015 * smoothstep(0.1, 0.5, haze + 0.3);
          const cloud = sample(n.b, X * S * 0.25, Z * S * 0.25) * 0.06 + sample(n.c, X * S * 1.5, Z * S * 1.5) * 0.015 * k04;
          const vein = core * 0.5 + haze * 0.12 + branch * 0.22;
          const o = i * 3;
          if (dark) {
            const m = 1 + cloud + vein * 2.6;
            out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m;
          } else {
            const m = 1 + cloud - vein * 0.55;
            out[o] = br * m * (1 - vein * 0.02); out[o + 1] = bg * m; out[o + 2] = bb * m * (1 + vein * 0.04);
          }
        }
      };
    }
    case 'wood': {
      const plank = 0.9 + rng() * 0.5;
      const tones = Float64Array.from({ length: 64 }, () => rng() * 2 - 1);
      return (Xs, count, Z, fp, out) => {
        // Z is 0 at the product's base: it stands mid-plank, not on a seam
        const pz = Z / plank + 0.5;
        const pi = Math.floor(pz);
        const pf = pz - pi;
        const tone = tones[((pi % 64) + 64) % 64]!;
        const k05 = keep(0.05, fp), k01 = keep(0.01, fp), k02 = keep(0.02, fp);
        const seam = (1 - smoothstep(0, 0.012 + fp * 0.6, Math.min(pf, 1 - pf) * plank)) * k02;
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const warp = sample(n.a, X * S * 0.05 + pi * 37, Z * S * 0.4) * 1.8;
          const rings = Math.sin((Z * 26 + warp * 3 + tone * 5) * 1.0);
          const ringLine = (1 - smoothstep(0.55, 1, Math.abs(rings))) * k05;
          const fiber = sample(n.c, X * S * 0.15, Z * S * 7) * k01;
          const m = (1 + tone * 0.1 + warp * 0.05 - ringLine * 0.14 + fiber * 0.08) * (1 - seam * 0.55);
          const o = i * 3;
          out[o] = br * m * (1 + tone * 0.03);
          out[o + 1] = bg * m;
          out[o + 2] = bb * m * (1 - tone * 0.04);
        }
      };
    }
    case 'concrete':
    case 'stone': {
      const speck = surface.material === 'stone' ? 0.1 : 0.05;
      return (Xs, count, Z, fp, out) => {
        const k15 = keep(0.15, fp), k02 = keep(0.02, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const broad = sample(n.a, X * S * 0.35, Z * S * 0.35);
          const mid = sample(n.b, X * S * 1.2, Z * S * 1.2) * k15;
          const fine = sample(n.c, X * S * 6, Z * S * 6);
          const pores = fine > 0.55 ? (fine - 0.55) * 2.2 * k02 : 0;
          const flecks = fine < -0.6 ? (-0.6 - fine) * k02 : 0;
          const m = 1 + broad * 0.1 + mid * 0.06 + fine * 0.04 * k02 - pores * 0.35 + flecks * speck * 4;
          const o = i * 3;
          out[o] = br * m * (1 + broad * 0.02);
          out[o + 1] = bg * m;
          out[o + 2] = bb * m * (1 - broad * 0.02);
        }
      };
    }
    case 'linen':
      return (Xs, count, Z, fp, out) => {
        const k = keep(0.012, fp);
        const k02 = keep(0.02, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const folds = sample(n.a, X * S * 0.25, Z * S * 0.5);
          const weave = (Math.sin(X * 520) * 0.5 + Math.sin(Z * 520) * 0.5) * k;
          const slub = sample(n.c, X * S * 0.5, Z * S * 12) * k02;
          const m = 1 + folds * 0.14 + weave * 0.05 + slub * 0.07;
          const o = i * 3;
          out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m;
        }
      };
    case 'terrazzo': {
      const chipColours = [hexToLinear('#8a8a86'), hexToLinear('#c0704d'), hexToLinear('#2f4a3e'), hexToLinear('#1d1d1d'), hexToLinear('#f2efe9'), hexToLinear('#d9a46c')];
      const cell = 0.07;
      return (Xs, count, Z, fp, out) => {
        const k03 = keep(0.03, fp);
        const cz = Math.floor(Z / cell);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const cx = Math.floor(X / cell);
          const h = Math.imul(cx * 73856093 ^ cz * 19349663, 0x5bd1e995) >>> 0;
          const jx = ((h & 255) / 255) * 0.6 + 0.2;
          const jz = (((h >> 8) & 255) / 255) * 0.6 + 0.2;
          const r = (((h >> 16) & 255) / 255) * 0.32 + 0.08;
          const d = Math.hypot(X / cell - cx - jx, Z / cell - cz - jz);
          const chip = (1 - smoothstep(r - 0.06 - fp / cell, r + 0.02 + fp / cell, d)) * k03 * ((h >>> 24) % 3 === 0 ? 0 : 1);
          const c = chipColours[(h >>> 26) % chipColours.length]!;
          const m = 1 + sample(n.b, X * S, Z * S) * 0.03;
          const o = i * 3;
          out[o] = (br * (1 - chip) + c[0] * chip) * m;
          out[o + 1] = (bg * (1 - chip) + c[1] * chip) * m;
          out[o + 2] = (bb * (1 - chip) + c[2] * chip) * m;
        }
      };
    }
    case 'sand':
      return (Xs, count, Z, fp, out) => {
        const k15 = keep(0.15, fp), k008 = keep(0.008, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const ripple = Math.sin((Z * 9 + sample(n.a, X * S * 0.3, Z * S * 0.3) * 2.5) * 2.2) * k15;
          const grain = sample(n.c, X * S * 10, Z * S * 10) * k008;
          const m = 1 + ripple * 0.06 + grain * 0.08 + sample(n.a, X * S * 0.1, Z * S * 0.1) * 0.06;
          const o = i * 3;
          out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m * (1 - ripple * 0.02);
        }
      };
    case 'metal':
      return (Xs, count, Z, fp, out) => {
        const k008 = keep(0.008, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const brush = sample(n.c, X * S * 0.2, Z * S * 20) * k008;
          const m = 1 + brush * 0.07 + sample(n.a, X * S * 0.2, Z * S * 0.2) * 0.05;
          const o = i * 3;
          out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m;
        }
      };
    case 'water':
      return (Xs, count, Z, fp, out) => {
        const k1 = keep(0.1, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const r = Math.sin((Z * 14 + sample(n.a, X * S * 0.4, Z * S * 0.4) * 3) * 2) * k1;
          const m = 1 + r * 0.12;
          const o = i * 3;
          out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m;
        }
      };
    case 'paper':
      return (Xs, count, Z, fp, out) => {
        const k02 = keep(0.02, fp);
        for (let i = 0; i < count; i++) {
          const X = Xs[i]!;
          const m = 1 + sample(n.c, X * S * 3, Z * S * 3) * 0.012 * k02 + sample(n.a, X * S * 0.2, Z * S * 0.2) * 0.012;
          const o = i * 3;
          out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m;
        }
      };
    default:
      return (Xs, count, Z, _fp, out) => {
        for (let i = 0; i < count; i++) {
          const m = 1 + sample(n.a, Xs[i]! * S * 0.3, Z * S * 0.3) * 0.02;
          const o = i * 3;
          out[o] = br * m; out[o + 1] = bg * m; out[o + 2] = bb * m;
        }
      };
  }
}
