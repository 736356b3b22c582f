import type { ScenePlan } from '../../contract/scene.js';
import { sharp } from '../sharp.js';
import { createRng } from './noise.js';

/**
 * Atmospheric effects drawn as vector shapes (rasterised by libvips/librsvg) and blended with
 * "screen": steam and smoke wisps rising from the product's top, mist along the surface, bokeh
 * discs in the defocused backdrop, light rays and haze from the key side, dust in the light.
 * Layers behind the product go under it; steam, smoke, dust and front mist go over it.
 */

export interface EffectsContext {
  plan: ScenePlan;
  width: number;
  height: number;
  seed: number;
  /** product box and the centre of its top opening, in working pixels */
  box: { x: number; y: number; w: number; h: number };
  topX: number;
  edgeY: number;
}

export interface EffectLayers {
  behind: Buffer | null;
  front: Buffer | null;
}

const f = (v: number) => v.toFixed(1);

function wisp(rng: () => number, x0: number, y0: number, height: number, spread: number, width: number, colour: string, opacity: number, id: string): string {
  const n = 16;
  const phase = rng() * Math.PI * 2;
  const freq = 2.2 + rng() * 1.8;
  const drift = (rng() - 0.5) * spread * 0.9;
  const pts: Array<[number, number]> = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    pts.push([x0 + Math.sin(t * freq * Math.PI + phase) * spread * 0.35 * t + drift * t * t, y0 - t * height]);
  }
  const d = `M${f(pts[0]![0])},${f(pts[0]![1])}` + pts.slice(1).map(([x, y], i) => {
    const [px, py] = pts[i]!;
    return ` Q${f(px)},${f(py)} ${f((px + x) / 2)},${f((py + y) / 2)}`;
  }).join('');
  const grad = `<linearGradient id="${id}" gradientUnits="userSpaceOnUse" x1="0" y1="${f(y0)}" x2="0" y2="${f(y0 - height)}">` +
    `<stop offset="0" stop-color="${colour}" stop-opacity="0"/><stop offset="0.18" stop-color="${colour}" stop-opacity="${opacity.toFixed(2)}"/>` +
    `<stop offset="0.55" stop-color="${colour}" stop-opacity="${(opacity * 0.6).toFixed(2)}"/><stop offset="1" stop-color="${colour}" stop-opacity="0"/></linearGradient>`;
  return `<defs>${grad}</defs>` +
    `<path d="${d}" fill="none" stroke="url(#${id})" stroke-width="${f(width * 2.6)}" stroke-linecap="round" stroke-opacity="0.35"/>` +
    `<path d="${d}" fill="none" stroke="url(#${id})" stroke-width="${f(width)}" stroke-linecap="round"/>`;
}

async function raster(svg: string, w: number, h: number, sigma: number): Promise<Buffer> {
  let s = sharp(Buffer.from(svg)).resize(w, h, { fit: 'fill' }).ensureAlpha();
  if (sigma >= 0.4) s = s.blur(sigma);
  return s.raw().toBuffer();
}

const open = (w: number, h: number) => `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`;

export async function renderEffects(ctx: EffectsContext): Promise<EffectLayers> {
  const { plan, width: W, height: H, box } = ctx;
  const e = plan.effects;
  const rng = createRng(ctx.seed, 41);
  const side = Math.sin((plan.light.azimuth * Math.PI) / 180) <= 0 ? -1 : 1;
  const frontParts: string[] = [];
  const behindParts: string[] = [];
  let frontBlur = 0;
  let behindBlur = 0;

  for (const [kind, colour] of [['steam', '#f4f2ee'], ['smoke', '#c9c7c4']] as const) {
    const v = e[kind];
    if (v <= 0) continue;
    const count = kind === 'steam' ? 3 : 4;
    for (let k = 0; k < count; k++) {
      const x0 = ctx.topX + (rng() - 0.5) * box.w * 0.35;
      const y0 = box.y + box.h * 0.05;
      const height = box.h * (0.4 + rng() * 0.35) * (0.7 + v * 0.5);
      frontParts.push(wisp(rng, x0, y0, height, box.w * (kind === 'smoke' ? 0.8 : 0.55), box.w * (kind === 'smoke' ? 0.05 : 0.026), colour, Math.min(0.7, 0.2 + v * 0.45), `${kind}${k}`));
    }
    frontBlur = Math.max(frontBlur, box.h * 0.016);
  }
  if (e.dust > 0) {
    const n = Math.round(60 + e.dust * 160);
    for (let k = 0; k < n; k++) {
      const x = side < 0 ? rng() * W * 0.7 : W * 0.3 + rng() * W * 0.7;
      const y = rng() * H * 0.85;
      frontParts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${f(0.6 + rng() * 1.8 * (W / 1000))}" fill="#fffaf0" fill-opacity="${(0.25 + rng() * 0.5 * e.dust).toFixed(2)}"/>`);
    }
  }
  if (e.mist > 0) {
    for (let k = 0; k < 9; k++) {
      const x = rng() * W;
      const y = ctx.edgeY + (rng() - 0.3) * H * 0.12;
      behindParts.push(`<ellipse cx="${f(x)}" cy="${f(y)}" rx="${f(W * (0.2 + rng() * 0.25))}" ry="${f(H * (0.04 + rng() * 0.05))}" fill="#eef0f2" fill-opacity="${(0.25 * e.mist + 0.1).toFixed(2)}"/>`);
    }
    for (let k = 0; k < 4; k++) {
      const x = box.x + rng() * box.w;
      frontParts.push(`<ellipse cx="${f(x)}" cy="${f(box.y + box.h * 0.98)}" rx="${f(box.w * (0.5 + rng() * 0.5))}" ry="${f(box.h * 0.05)}" fill="#eef0f2" fill-opacity="${(0.12 * e.mist).toFixed(2)}"/>`);
    }
    behindBlur = Math.max(behindBlur, H * 0.03);
    frontBlur = Math.max(frontBlur, box.h * 0.02);
  }
  if (e.rays > 0 || e.haze > 0) {
    const sx = side < 0 ? -W * 0.1 : W * 1.1;
    if (e.rays > 0) {
      for (let k = 0; k < 6; k++) {
        const a = (side < 0 ? 0.25 : Math.PI - 0.25) + (rng() - 0.5) * 0.5 * (side < 0 ? 1 : -1) + k * 0.09 * -side;
        const len = Math.hypot(W, H) * 1.2;
        const wd = W * (0.02 + rng() * 0.05);
        const ex = sx + Math.cos(a) * len;
        const ey = -H * 0.1 + Math.sin(a) * len;
        behindParts.push(`<polygon points="${f(sx)},${f(-H * 0.1)} ${f(ex - wd)},${f(ey)} ${f(ex + wd)},${f(ey + wd)}" fill="#fff6e0" fill-opacity="${(0.07 + 0.1 * e.rays).toFixed(2)}"/>`);
      }
    }
    if (e.haze > 0) {
      behindParts.push(`<defs><radialGradient id="haze" cx="${side < 0 ? '0.1' : '0.9'}" cy="0.2" r="0.9"><stop offset="0" stop-color="#fff8ec" stop-opacity="${(0.35 * e.haze).toFixed(2)}"/><stop offset="1" stop-color="#fff8ec" stop-opacity="0"/></radialGradient></defs><rect width="${W}" height="${H}" fill="url(#haze)"/>`);
    }
    behindBlur = Math.max(behindBlur, W * 0.012);
  }
  let bokehSvg = '';
  if (e.bokeh > 0) {
    const env = plan.backdrop.environment;
    const colours = env === 'city-night' ? ['#ffb45a', '#ff6a5a', '#7fb6ff', '#ffe29a', '#c58bff']
      : env === 'cafe' || plan.light.temperature < 4500 ? ['#ffd08a', '#ffc070', '#ffe0b0'] : ['#fff4e0', '#e8f0ff', '#fff8ec'];
    const n = Math.round(10 + e.bokeh * 30);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) {
      const x = rng() * W;
      const y = rng() * Math.max(10, ctx.edgeY * 1.02);
      const r = H * (0.012 + rng() * 0.035);
      const c = colours[Math.floor(rng() * colours.length)]!;
      const op = (0.15 + rng() * 0.45) * Math.min(1, 0.4 + e.bokeh);
      parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="${c}" fill-opacity="${op.toFixed(2)}" stroke="${c}" stroke-opacity="${Math.min(1, op * 1.4).toFixed(2)}" stroke-width="${f(r * 0.08)}"/>`);
    }
    bokehSvg = parts.join('');
  }

  const layers: EffectLayers = { behind: null, front: null };
  if (behindParts.length > 0 || bokehSvg) {
    const soft = behindParts.length > 0 ? await raster(`${open(W, H)}${behindParts.join('')}</svg>`, W, H, behindBlur) : null;
    const disc = bokehSvg ? await raster(`${open(W, H)}${bokehSvg}</svg>`, W, H, Math.max(0.6, H * 0.0015)) : null;
    if (soft && disc) {
      layers.behind = await sharp(soft, { raw: { width: W, height: H, channels: 4 } }).composite([{ input: disc, raw: { width: W, height: H, channels: 4 }, blend: 'screen' }]).raw().toBuffer();
    } else layers.behind = soft ?? disc;
  }
  if (frontParts.length > 0) layers.front = await raster(`${open(W, H)}${frontParts.join('')}</svg>`, W, H, frontBlur);
  return layers;
}
