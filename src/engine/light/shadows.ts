import type { ScenePlan } from '../../contract/scene.js';
import { blur } from '../codec.js';
import { mask8 } from '../raster/types.js';
import type { ShadowMasks } from '../types.js';

/**
 * Contact and cast shadows as masks at the working size. The cast shadow is the product's
 * silhouette projected onto the surface away from the key light (an affine map: each silhouette
 * row at height h above the base lands h·cot(elevation) further along the light's ground
 * direction, foreshortened by the camera), thickened by the product's footprint and softened with
 * distance from the base as a real penumbra is.
 */

export interface SilhouetteInput {
  /** product alpha at the working size, w×h, placed with its top-left at (x, y) */
  alpha: Uint8Array;
  x: number;
  y: number;
  w: number;
  h: number;
}


export interface ShadowGeometry {
  width: number;
  height: number;
  baseY: number;
  /** ground foreshortening at the base: screen depth pixels per lateral pixel */
  foreshorten: number;
  topDown: boolean;
}

async function blurMask(mask: Uint8Array, w: number, h: number, sigma: number): Promise<Uint8Array> {
  if (sigma < 0.35) return mask;
  const { data } = await blur(mask8(Buffer.from(mask.buffer, mask.byteOffset, mask.length), w, h), sigma);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function footprint(s: SilhouetteInput): { x0: number; x1: number } {
  let x0 = s.w;
  let x1 = -1;
  const rows = Math.max(1, Math.round(s.h * 0.04));
  for (let y = s.h - rows; y < s.h; y++) {
    for (let x = 0; x < s.w; x++) {
      if (s.alpha[y * s.w + x]! > 128) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  return x1 < 0 ? { x0: s.w * 0.3, x1: s.w * 0.7 } : { x0, x1 };
}

export async function computeShadows(plan: ScenePlan, g: ShadowGeometry, s: SilhouetteInput): Promise<ShadowMasks> {
  const { width: W, height: H } = g;
  const sh = plan.shadow;
  const result: ShadowMasks = { cast: null, contact: null, occlusion: null };
  const fp = footprint(s);
  const fcx = s.x + (fp.x0 + fp.x1) / 2;
  const frx = Math.max(2, ((fp.x1 - fp.x0) / 2) * 1.1);
  const fry = g.topDown ? frx : Math.max(1.5, frx * g.foreshorten);

  if (sh.contact && !g.topDown) {
    const pad = Math.ceil(frx * 1.8 + s.h * 0.12);
    const rx0 = Math.max(0, Math.floor(fcx - pad));
    const rx1 = Math.min(W, Math.ceil(fcx + pad));
    const ry0 = Math.max(0, Math.floor(g.baseY - fry * 3 - pad * 0.3));
    const ry1 = Math.min(H, Math.ceil(g.baseY + fry * 3 + pad * 0.3));
    const rw = rx1 - rx0;
    const rh = ry1 - ry0;
    if (rw > 2 && rh > 2) {
      const tight = new Uint8Array(rw * rh);
      const broad = new Uint8Array(rw * rh);
      const cy = g.baseY - fry * 0.6;
      for (let y = 0; y < rh; y++) contactRow(tight, broad, rw, rx0, y + ry0 - cy, y, fcx, frx, fry);
      const [t, b] = await Promise.all([blurMask(tight, rw, rh, Math.max(0.8, s.h * 0.008)), blurMask(broad, rw, rh, Math.max(2, s.h * 0.045))]);
      result.contact = new Float32Array(W * H);
      result.occlusion = new Float32Array(W * H);
      for (let y = 0; y < rh; y++) {
        unitRow(t, y * rw, result.contact, (y + ry0) * W + rx0, rw);
        unitRow(b, y * rw, result.occlusion, (y + ry0) * W + rx0, rw);
      }
    }
  }

  if (sh.cast && sh.opacity > 0) {
    const el = (Math.max(6, plan.light.elevation) * Math.PI) / 180;
    const az = (plan.light.azimuth * Math.PI) / 180;
    const k = Math.min(1.7, 1 / Math.tan(el));
    if (plan.light.elevation >= 85 && !g.topDown) return result;
    let a: number;
    let c: number;
    if (g.topDown) {
      a = 0; c = 0;
    } else {
      a = -k * Math.sin(az);
      c = k * Math.cos(az) * g.foreshorten;
      // A light exactly at the side would lay the shadow flat along the base line; keys sit a little
      // behind or in front of the product in practice, so the shadow always reaches back or forward.
      if (Math.abs(c) < 0.18 * g.foreshorten * 3) c = (c < 0 ? -0.18 : 0.18) * g.foreshorten * 3;
    }
    // The projected region: the silhouette's corners, mapped.
    const corners: Array<[number, number]> = [];
    for (const [px, py] of [[s.x, s.y], [s.x + s.w, s.y], [s.x, s.y + s.h], [s.x + s.w, s.y + s.h]] as const) {
      const hgt = g.baseY - py;
      corners.push(g.topDown ? [px, py] : [px + a * hgt, g.baseY - c * hgt]);
    }
    const offX = g.topDown ? -Math.sin(az) * (0.04 + k * 0.08) * s.h : 0;
    const offY = g.topDown ? Math.cos(az) * -(0.04 + k * 0.08) * s.h + 0.03 * s.h : 0;
    const sigmaFar = Math.max(1, s.h * (0.015 + sh.softness * 0.06));
    const sigmaNear = Math.max(0.6, s.h * (0.003 + sh.softness * 0.018));
    const pad = Math.ceil(sigmaFar * 3 + fry * 2);
    const xs = corners.map((p) => p[0] + offX);
    const ys = corners.map((p) => p[1] + offY);
    const rx0 = Math.max(0, Math.floor(Math.min(...xs) - pad));
    const rx1 = Math.min(W, Math.ceil(Math.max(...xs) + pad));
    const ry0 = Math.max(0, Math.floor(Math.min(...ys, g.baseY) - pad));
    const ry1 = Math.min(H, Math.ceil(Math.max(...ys, g.baseY) + pad));
    const rw = rx1 - rx0;
    const rh = ry1 - ry0;
    if (rw < 3 || rh < 3) return result;
    const proj = new Uint8Array(rw * rh);
    const dist = new Float32Array(rw * rh);
    const pass: ProjectPass = { proj, dist, rw, rx0, topDown: g.topDown, baseY: g.baseY, offX, offY, a, c, fry, alpha: s.alpha, sx: s.x, sy: s.y, sw: s.w, sh: s.h };
    for (let y = 0; y < rh; y++) projectRow(pass, y, y + ry0);
    // Thickness: a solid object's shadow is as deep as its footprint, even when the light skims it.
    const thick = await blurMask(proj, rw, rh, g.topDown ? 0 : Math.max(0.5, fry * 0.25));
    for (let i = 0; i < thick.length; i++) thick[i] = Math.min(255, thick[i]! * 1.8);
    const [near, far] = await Promise.all([blurMask(thick, rw, rh, sigmaNear), blurMask(thick, rw, rh, sigmaFar)]);
    const cast = new Float32Array(W * H);
    for (let y = 0; y < rh; y++) castRow(near, far, dist, y * rw, cast, (y + ry0) * W + rx0, rw);
    result.cast = cast;
  }
  return result;
}

// The masks' rows, each a function of its own: called row after row they are optimised once and
// stay so, where the same loops inside computeShadows (async, once a frame) ran unoptimised until
// on-stack replacement, every frame.

/** A row of the contact shadow's two ellipses (tight and broad) around (fcx, baseline), `dyPx` the row's offset from their centre. */
function contactRow(tight: Uint8Array, broad: Uint8Array, rw: number, rx0: number, dyPx: number, y: number, fcx: number, frx: number, fry: number): void {
  for (let x = 0; x < rw; x++) {
    const dx = (x + rx0 - fcx) / frx;
    const dy = dyPx / fry;
    tight[y * rw + x] = dx * dx + (dy * dy) / 1.3 < 1 ? 255 : 0;
    const d2 = dx * dx / 1.7 + dy * dy / 2.6;
    broad[y * rw + x] = d2 < 1 ? 255 : 0;
  }
}

/** n bytes from `from` at `i` as 0..1 floats into `to` at `o`. */
function unitRow(from: Uint8Array, i: number, to: Float32Array, o: number, n: number): void {
  for (let x = 0; x < n; x++) to[o + x] = from[i + x]! / 255;
}

interface ProjectPass {
  proj: Uint8Array; dist: Float32Array; rw: number; rx0: number;
  topDown: boolean; baseY: number; offX: number; offY: number; a: number; c: number; fry: number;
  /** the silhouette: alpha, its box in working pixels */
  alpha: Uint8Array; sx: number; sy: number; sw: number; sh: number;
}

/** A row of the cast shadow's region (`oy` in the frame): the silhouette projected there, and the height it falls from. */
function projectRow(p: ProjectPass, y: number, oy: number): void {
  const { proj, dist, rw, rx0, topDown, baseY, offX, offY, a, c, fry, alpha } = p;
  const s = { x: p.sx, y: p.sy, w: p.sw, h: p.sh };
  for (let x = 0; x < rw; x++) {
    const ox = x + rx0;
    let sx: number;
    let sy: number;
    let hgt: number;
    if (topDown) {
      sx = ox - offX; sy = oy - offY; hgt = 0.5 * s.h;
    } else {
      hgt = (baseY - oy) / c;
      sy = baseY - hgt;
      sx = ox - a * hgt;
    }
    dist[y * rw + x] = Math.min(1, Math.max(0, hgt / s.h));
    if (hgt < -fry || hgt > s.h) continue;
    const lx = Math.round(sx - s.x);
    const ly = Math.round(Math.min(s.h - 1, sy - s.y));
    if (lx < 0 || lx >= s.w || ly < 0) continue;
    proj[y * rw + x] = alpha[ly * s.w + lx]!;
  }
}

/** A row of the cast shadow: the near and far blurs mixed by the height each pixel falls from. */
function castRow(near: Uint8Array, far: Uint8Array, dist: Float32Array, i0: number, cast: Float32Array, o: number, n: number): void {
  for (let x = 0; x < n; x++) {
    const i = i0 + x;
    const t = Math.min(1, dist[i]! * 1.6);
    // the shadow lightens as it leaves the contact point (more skylight reaches it)
    const v = (near[i]! * (1 - t) + far[i]! * t) / 255 * (1 - 0.15 * t);
    cast[o + x] = v;
  }
}
