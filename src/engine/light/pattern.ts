import type { ScenePlan } from '../../contract/scene.js';
import { createRng } from '../raster/noise.js';
import { rasteriseSvg } from '../codec.js';
import type { Field32 } from '../raster/types.js';

/**
 * Projected light patterns (gobos): a window frame, blinds or palm leaves between the key light and
 * the set. The mask says how much key light reaches each pixel (1 lit, 0 blocked); it multiplies
 * the key on the surface, the backdrop and, more gently, the product. Softness follows the light's
 * hardness, as a shadow from a farther or larger source is softer.
 */
export async function renderPattern(plan: ScenePlan, W: number, H: number, seed: number, focus: { x: number; y: number; h: number }): Promise<Field32 | null> {
  const p = plan.light.pattern;
  if (p === 'none') return null;
  const rng = createRng(seed, 51);
  const side = Math.sin((plan.light.azimuth * Math.PI) / 180) <= 0 ? -1 : 1;
  const parts: string[] = [];
  let ground: string;
  const f = (v: number) => v.toFixed(1);
  if (p === 'window') {
    // a bright, skewed window patch around the product, mullions as dark bars
    ground = '#262626';
    const w = focus.h * 1.9;
    const h = focus.h * 1.5;
    const cx = focus.x + side * -focus.h * 0.1;
    const cy = focus.y - focus.h * 0.35;
    const skew = side * -22;
    const bar = focus.h * 0.05;
    parts.push(`<g transform="translate(${f(cx)},${f(cy)}) skewX(${skew})">`);
    parts.push(`<rect x="${f(-w / 2)}" y="${f(-h / 2)}" width="${f(w)}" height="${f(h)}" fill="#ffffff"/>`);
    parts.push(`<rect x="${f(-bar / 2)}" y="${f(-h / 2)}" width="${f(bar)}" height="${f(h)}" fill="#262626"/>`);
    parts.push(`<rect x="${f(-w / 2)}" y="${f(-bar / 2)}" width="${f(w)}" height="${f(bar)}" fill="#262626"/>`);
    parts.push('</g>');
  } else if (p === 'blinds') {
    ground = '#ffffff';
    const period = H * (0.07 + rng() * 0.03);
    const angle = side * (18 + rng() * 12);
    parts.push(`<g transform="rotate(${f(angle)} ${f(W / 2)} ${f(H / 2)})">`);
    for (let y = -H; y < H * 2; y += period) parts.push(`<rect x="${f(-W)}" y="${f(y)}" width="${f(W * 3)}" height="${f(period * 0.42)}" fill="#202020"/>`);
    parts.push('</g>');
  } else {
    // palm fronds: leaflets along curved spines reaching in from the light's side
    ground = '#ffffff';
    const fronds = 3 + Math.floor(rng() * 2);
    for (let k = 0; k < fronds; k++) {
      const sx = side < 0 ? -W * 0.05 : W * 1.05;
      const sy = H * (0.05 + rng() * 0.7);
      const ang = (side < 0 ? 0 : Math.PI) + (rng() - 0.5) * 1.1;
      const len = Math.max(W, H) * (0.5 + rng() * 0.35);
      const n = 22;
      for (let i = 2; i < n; i++) {
        const t = i / n;
        const bend = 0.35 * t * t;
        const a = ang + bend * (k % 2 === 0 ? 1 : -1);
        const x = sx + Math.cos(a) * len * t;
        const y = sy + Math.sin(a) * len * t;
        const leaf = len * 0.22 * Math.sin(Math.PI * Math.min(1, t * 1.1));
        for (const s of [-1, 1]) {
          const la = a + s * (0.9 - 0.3 * t);
          const lx = x + Math.cos(la) * leaf * 0.5;
          const ly = y + Math.sin(la) * leaf * 0.5;
          parts.push(`<ellipse cx="${f(lx)}" cy="${f(ly)}" rx="${f(leaf * 0.5)}" ry="${f(Math.max(1, leaf * 0.07))}" transform="rotate(${f((la * 180) / Math.PI)} ${f(lx)} ${f(ly)})" fill="#1a1a1a"/>`);
        }
      }
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><rect width="${W}" height="${H}" fill="${ground}"/>${parts.join('')}</svg>`;
  const sigma = Math.max(0.8, (1 - plan.light.hardness) * H * 0.02 + H * 0.003);
  const { data } = await rasteriseSvg(svg, { width: W, height: H, channels: 1, blur: sigma });
  const out = new Float32Array(W * H);
  for (let i = 0; i < out.length; i++) out[i] = data[i]! / 255;
  return { data: out, width: W, height: H };
}
