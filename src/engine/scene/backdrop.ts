import type { ScenePlan } from '../../contract/scene.js';
import { mixHex } from '../../plan/colors.js';
import { rasteriseSvg } from '../codec.js';
import { hexToLinear, srgbToLinearLut } from '../raster/color.js';
import { createRng, fbmField, sample, type NoiseField } from '../raster/noise.js';
import { renderEnvironment, type EnvironmentLook } from './environment.js';

/**
 * Backdrops, rendered at the working size as linear RGB. Studio backdrops (sweep, wall, plaster,
 * gradient, solid) are computed per pixel with the key light's spill; environments are drawn as
 * simple shapes (windows, shelves, lamps, foliage…) at low resolution and defocused, which is all a
 * shallow depth of field leaves of a room.
 */

export interface BackdropContext {
  plan: ScenePlan;
  width: number;
  height: number;
  seed: number;
  /** product centre and base, in working pixels (the spill light centres on it) */
  centerX: number;
  centerY: number;
  productHeight: number;
  /** a photographic environment (scene/environment.ts): its look, the set's horizon row, the blur's quality */
  photo?: { look: EnvironmentLook; horizonY: number; quality: 'fast' | 'full' } | null;
}

export async function renderBackdrop(ctx: BackdropContext): Promise<Float32Array> {
  const { plan, width: W, height: H } = ctx;
  const b = plan.backdrop;
  if (ctx.photo) {
    // bokeh over a photograph is its own lights through a wider-open lens: a larger disc
    const blur = b.blur + 0.35 * plan.effects.bokeh;
    return renderEnvironment({ look: ctx.photo.look, width: W, height: H, horizonY: ctx.photo.horizonY, blur, quality: ctx.photo.quality });
  }
  const out = new Float32Array(W * H * 3);
  if (b.kind === 'environment' && b.environment !== 'none') {
    await drawEnvironment(ctx, out);
    return out;
  }
  const base = hexToLinear(b.color);
  const key = plan.light;
  const side = Math.sin((key.azimuth * Math.PI) / 180); // -1 light from the left … 1 right
  const noise = fbmField(ctx.seed, 21, 256, 3, 5);
  const fine = fbmField(ctx.seed, 22, 128, 16, 2);
  const plaster = b.kind === 'plaster';
  const tex = plaster ? 0.16 : b.kind === 'wall' ? 0.035 : b.kind === 'solid' ? 0 : 0.012;
  // The spill: a soft pool of light behind the product, pulled toward the key side.
  const gx = ctx.centerX + side * W * 0.16;
  const gy = ctx.centerY - ctx.productHeight * 0.25;
  const rx = W * (b.kind === 'gradient' ? 0.42 : 0.7);
  const ry = H * (b.kind === 'gradient' ? 0.45 : 0.75);
  const spill = b.kind === 'solid' ? 0 : b.kind === 'gradient' ? 1.1 : 0.45;
  const floor = b.kind === 'gradient' ? 0.28 + (1 - key.contrast) * 0.3 : 0.72;
  const s = 256 / Math.max(W, H);
  // The spill is a gaussian, so it factors into a column and a row term, and the side gradient
  // depends on the column only: both are tabled once instead of an exp per pixel.
  const glowX = new Float64Array(W);
  const gradX = new Float64Array(W);
  for (let x = 0; x < W; x++) {
    const dx = (x - gx) / rx;
    glowX[x] = Math.exp(-dx * dx * 1.3);
    // side gradient: walls are brighter toward the light
    gradX[x] = 1 + side * ((x / W) - 0.5) * 0.3 * key.contrast * -1 * (b.kind === 'gradient' ? 0.5 : 1);
  }
  const pass: StudioPass = { out, W, floor, spill, glowX, gradX, tex, noise, fine, s, plaster, side, base };
  for (let y = 0; y < H; y++) {
    const dy = (y - gy) / ry;
    studioRow(pass, y, Math.exp(-dy * dy * 1.3));
  }
  return out;
}

interface StudioPass {
  out: Float32Array; W: number; floor: number; spill: number; glowX: Float64Array; gradX: Float64Array;
  tex: number; noise: NoiseField; fine: NoiseField; s: number; plaster: boolean; side: number; base: [number, number, number];
}

/** One row of a studio backdrop: a function of its own, optimised once (not a loop re-optimised every frame). */
function studioRow(c: StudioPass, y: number, glowY: number): void {
  const { out, W, floor, spill, glowX, gradX, tex, noise, fine, s, plaster, side, base } = c;
  for (let x = 0; x < W; x++) {
    let m = (floor + spill * glowX[x]! * glowY) * gradX[x]!;
    if (tex > 0) {
      const nv = sample(noise, x * s * 1.4, y * s * 1.4);
      const nf = sample(fine, x * s * 6, y * s * 6);
      // plaster relief: brighter where the grazing key light catches it
      m *= 1 + nv * tex + nf * tex * 0.35 + (plaster ? nf * 0.04 * -side : 0);
    }
    const i = (y * W + x) * 3;
    out[i] = base[0] * m;
    out[i + 1] = base[1] * m;
    out[i + 2] = base[2] * m;
  }
}

type Env = Exclude<ScenePlan['backdrop']['environment'], 'none'>;

/** Shapes for each environment in a 100×100 box (x, y in percent of the frame). */
function environmentSvg(env: Env, plan: ScenePlan, rng: () => number, aspect: number): string {
  const r = (lo: number, hi: number) => lo + rng() * (hi - lo);
  const tint = plan.backdrop.color;
  const fromLeft = Math.sin((plan.light.azimuth * Math.PI) / 180) <= 0;
  const winX = fromLeft ? r(-5, 12) : r(60, 78);
  const parts: string[] = [];
  const rect = (x: number, y: number, w: number, h: number, fill: string, op = 1) =>
    parts.push(`<rect x="${x.toFixed(2)}" y="${y.toFixed(2)}" width="${w.toFixed(2)}" height="${h.toFixed(2)}" fill="${fill}" fill-opacity="${op.toFixed(2)}"/>`);
  const circle = (x: number, y: number, rad: number, fill: string, op = 1) =>
    parts.push(`<ellipse cx="${x.toFixed(2)}" cy="${y.toFixed(2)}" rx="${(rad / aspect).toFixed(2)}" ry="${rad.toFixed(2)}" fill="${fill}" fill-opacity="${op.toFixed(2)}"/>`);
  const window = (x: number, w: number, glow: string) => {
    rect(x, 4, w, 62, glow, 0.95);
    rect(x + w / 2 - 0.6, 4, 1.2, 62, mixHex(tint, '#000000', 0.3), 0.5);
    rect(x, 34, w, 1.2, mixHex(tint, '#000000', 0.3), 0.5);
  };
  let bg: string;
  switch (env) {
    case 'cafe': {
      bg = mixHex(tint, '#2a1c14', 0.35);
      rect(0, 0, 100, 100, bg);
      window(winX, 24, '#f6ead2');
      // back bar with shelves and bottles/cups
      const shelfX = fromLeft ? 42 : 8;
      for (const sy of [20, 34, 48]) {
        rect(shelfX, sy, 50, 1.6, '#3a2619');
        for (let k = 0; k < 9; k++) rect(shelfX + 2 + k * 5.4 + r(-1, 1), sy - r(5, 9), r(1.6, 3), 9, [`#c9a57a`, '#8a5a36', '#e9dcc6', '#5b3a26', '#b78a5a'][Math.floor(r(0, 5))]!, 0.9);
      }
      rect(0, 56, 100, 44, mixHex(tint, '#1c120c', 0.5));
      for (let k = 0; k < 4; k++) circle(r(20, 90), r(4, 14), r(1.5, 2.6), '#ffd9a0', 1);
      circle(fromLeft ? r(30, 40) : r(60, 70), r(35, 50), r(6, 9), '#4f6a3c', 0.8);
      break;
    }
    case 'kitchen': {
      bg = mixHex(tint, '#f1ece3', 0.3);
      rect(0, 0, 100, 100, bg);
      for (let k = 0; k < 6; k++) rect(k * 17 + 1, 2, 15, 26, mixHex(bg, '#ffffff', 0.25));
      window(winX, 22, '#fbf7ee');
      for (let k = 0; k < 12; k++) rect(k * 8.5, 30, 8, 4, mixHex(bg, '#ffffff', 0.4), 0.6);
      rect(0, 50, 100, 50, mixHex(bg, '#6b6259', 0.25));
      for (let k = 0; k < 5; k++) circle((fromLeft ? 80 : 18) + r(-4, 4), 38 + r(-5, 4), r(2.5, 4.5), '#5f7f4a', 0.7);
      break;
    }
    case 'bathroom': {
      bg = mixHex(tint, '#eef0ef', 0.4);
      rect(0, 0, 100, 100, bg);
      for (let y = 0; y < 60; y += 7) rect(0, y, 100, 0.5, mixHex(bg, '#8a9090', 0.35));
      for (let x = 0; x < 100; x += 7) rect(x, 0, 0.4, 60, mixHex(bg, '#8a9090', 0.35));
      rect(fromLeft ? 55 : 15, 8, 28, 36, mixHex(bg, '#c9d3d6', 0.5));
      window(winX, 16, '#ffffff');
      circle(fromLeft ? 85 : 12, 44, 6, '#6d8b5e', 0.8);
      break;
    }
    case 'living-room': {
      bg = mixHex(tint, '#d9cbb8', 0.3);
      rect(0, 0, 100, 100, bg);
      window(winX, 26, '#fbf3e2');
      rect(fromLeft ? 38 : 8, 38, 56, 22, mixHex(tint, '#7b6a5a', 0.4));
      rect(fromLeft ? 36 : 6, 32, 60, 8, mixHex(tint, '#6b5a4c', 0.45));
      rect(fromLeft ? 52 : 28, 10, 16, 12, mixHex(tint, '#3d352e', 0.5), 0.7);
      circle(fromLeft ? 88 : 12, 28, 5, '#ffe2b0', 0.9);
      circle(fromLeft ? 30 : 72, 36, 8, '#55704a', 0.8);
      break;
    }
    case 'bedroom': {
      bg = mixHex(tint, '#e3d9cc', 0.3);
      rect(0, 0, 100, 100, bg);
      window(winX, 22, '#fff7ea');
      rect(fromLeft ? 34 : 6, 30, 60, 14, mixHex(tint, '#8e7a66', 0.3));
      rect(fromLeft ? 30 : 2, 42, 70, 22, '#f1ebe2');
      circle(fromLeft ? 86 : 12, 30, 4, '#ffe0ab', 0.9);
      break;
    }
    case 'office': {
      bg = mixHex(tint, '#c9c6c0', 0.3);
      rect(0, 0, 100, 100, bg);
      window(winX, 24, '#f4f6f6');
      const sx = fromLeft ? 44 : 6;
      for (const sy of [16, 30, 44]) {
        rect(sx, sy, 48, 1.4, '#6a5d50');
        for (let k = 0; k < 12; k++) rect(sx + k * 4 + r(0, 0.8), sy - r(7, 10), r(2, 3.4), 10, ['#7d5a44', '#4a5a6a', '#b59b7a', '#37414a', '#a24a3a', '#d8d2c6'][Math.floor(r(0, 6))]!, 0.9);
      }
      circle(fromLeft ? 36 : 64, 40, 7, '#56714a', 0.85);
      break;
    }
    case 'garden': {
      bg = '#a9c6dc';
      rect(0, 0, 100, 100, bg);
      for (let k = 0; k < 26; k++) circle(r(-5, 105), r(5, 60), r(6, 16), ['#5f8a4a', '#7aa25a', '#46703c', '#8fb26a'][Math.floor(r(0, 4))]!, 0.9);
      rect(0, 58, 100, 42, '#6f7f5a');
      for (let k = 0; k < 8; k++) circle(r(0, 100), r(10, 50), r(0.8, 2), '#fff6d8', 0.8);
      break;
    }
    case 'forest': {
      bg = '#5b7a55';
      rect(0, 0, 100, 100, bg);
      for (let k = 0; k < 14; k++) rect(r(0, 100), 0, r(2, 5), 70, ['#2e2a22', '#3b3328', '#4a4134'][Math.floor(r(0, 3))]!, 0.9);
      for (let k = 0; k < 22; k++) circle(r(-5, 105), r(0, 45), r(6, 14), ['#3f6a3a', '#5c8a48', '#2f5230'][Math.floor(r(0, 3))]!, 0.85);
      for (let k = 0; k < 10; k++) circle(r(0, 100), r(5, 55), r(0.6, 1.8), '#fff3c4', 0.9);
      rect(0, 62, 100, 38, '#3a4a2c');
      break;
    }
    case 'beach': {
      parts.push(`<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#7fb4de"/><stop offset="1" stop-color="#e6f1f6"/></linearGradient></defs>`);
      parts.push(`<rect x="0" y="0" width="100" height="100" fill="url(#sky)"/>`);
      rect(0, 40, 100, 14, '#3f8fb0');
      rect(0, 52, 100, 3, '#d9f0f4', 0.8);
      rect(0, 55, 100, 45, '#e3cfa8');
      circle(fromLeft ? 18 : 82, 14, 6, '#ffffff', 0.9);
      for (let k = 0; k < 4; k++) parts.push(`<ellipse cx="${r(0, 100).toFixed(1)}" cy="${r(6, 24).toFixed(1)}" rx="${r(10, 22).toFixed(1)}" ry="${r(1.5, 3).toFixed(1)}" fill="#ffffff" fill-opacity="0.45"/>`);
      break;
    }
    case 'city-night': {
      bg = '#141a2b';
      rect(0, 0, 100, 100, bg);
      for (let k = 0; k < 16; k++) {
        const x = r(-5, 100);
        const w = r(5, 12);
        const top = r(5, 35);
        rect(x, top, w, 70 - top, '#1d2438', 0.95);
        for (let j = 0; j < 10; j++) if (rng() < 0.5) rect(x + r(0.5, w - 1.5), r(top + 1, 60), 1, 1.2, '#ffce7a', 0.8);
      }
      rect(0, 62, 100, 38, '#0e1220');
      break;
    }
    default:
      // photographic environments (lobby, workshop, park, street) are drawn only as their colour
      rect(0, 0, 100, 100, tint);
      rect(0, 58, 100, 42, mixHex(tint, '#000000', 0.3));
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" preserveAspectRatio="none" width="100%" height="100%">${parts.join('')}</svg>`;
}

async function drawEnvironment(ctx: BackdropContext, out: Float32Array): Promise<void> {
  const { plan, width: W, height: H } = ctx;
  const env = plan.backdrop.environment as Env;
  const rng = createRng(ctx.seed, 31);
  // Drawn small: a defocused room has no detail finer than the blur.
  const lw = Math.max(32, Math.round(W / 6));
  const lh = Math.max(32, Math.round(H / 6));
  const svg = environmentSvg(env, plan, rng, W / H).replace('width="100%" height="100%"', `width="${lw}" height="${lh}"`);
  // the blur is meant at the drawing's size; libvips applies it after the stretch, at the frame's
  // size, so it is scaled up by the stretch (it used to be applied as is: about 6× too weak)
  const sigma = Math.max(0.6, plan.backdrop.blur * Math.max(lw, lh) * 0.045) * (Math.max(W, H) / Math.max(lw, lh));
  // drawn at lw × lh, stretched to the frame (cubic) and blurred there
  const { data } = await rasteriseSvg(svg, { width: W, height: H, channels: 3, kernel: 'cubic', blur: sigma });
  const lut = srgbToLinearLut();
  const side = Math.sin((plan.light.azimuth * Math.PI) / 180);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      // gentle falloff away from the window side keeps the product the brightest thing in frame
      const m = 0.78 + 0.22 * (1 - Math.abs((x / W) - (side <= 0 ? 0.15 : 0.85)));
      out[p * 3] = lut[data[p * 3]!]! * m;
      out[p * 3 + 1] = lut[data[p * 3 + 1]!]! * m;
      out[p * 3 + 2] = lut[data[p * 3 + 2]!]! * m;
    }
  }
}
