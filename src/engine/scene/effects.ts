import type { ScenePlan } from '../../contract/scene.js';
import { composite, rasteriseSvg, resize } from '../codec.js';
import { rgba8, type Box } from '../raster/types.js';
import { createRng } from '../raster/noise.js';
import { productKind } from '../../plan/products.js';
import { detectOpening, type Rim } from './opening.js';
import { renderWisps, type WispLayer } from './wisps.js';

/**
 * Atmospheric effects, blended with "screen": steam and smoke rising from the product's opening (a
 * density field, see wisps.ts), and vector shapes rasterised by libvips/librsvg: mist along the surface, bokeh
 * discs in the defocused backdrop, light rays and haze from the key side, dust in the light.
 * Layers behind the product go under it; steam, smoke, dust and front mist go over it.
 *
 * Steam and smoke respect the product (`placeEffects`, the one place that decides): they rise from a
 * vessel's opening (opening.ts reads it from the cut-out product), in front of the product only above
 * the rim; a product with no opening gets no steam, and smoke rises from behind it instead. The plan
 * the report carries says what happened (`words.notes`) and holds the amounts actually drawn.
 */

/** Where steam or smoke rises from, working pixels. */
export interface VapourSource {
  x: number;
  y: number;
  halfWidth: number;
  /** the rim's ellipse, when it rises from an opening: the product hides the vapour below the rim's centre row */
  rim: Rim | null;
}

export interface EffectsContext {
  plan: ScenePlan;
  width: number;
  height: number;
  seed: number;
  /** product box, in working pixels */
  box: { x: number; y: number; w: number; h: number };
  edgeY: number;
  /** from placeEffects: where steam and smoke rise (an opening, or behind the product) */
  vapour?: VapourPlacement;
  /** the product's alpha over its box at the working size: it hides vapour below a rim */
  productAlpha?: Uint8Array;
}

/** Steam and smoke: from openings in front (over the backdrop and the product above the rim), or behind the product. */
export interface VapourPlacement { sources: VapourSource[]; behind: boolean }

/** The product as the studio has it at the working size: straight-alpha RGBA over its box, and each product's box in it. */
export interface ProductAtWork {
  rgba: Buffer;
  x: number;
  y: number;
  w: number;
  h: number;
  /** each product of a group, relative to the box (one box for one product) */
  boxes: Box[];
}

/**
 * Decides where steam and smoke go for this product, once, and returns the plan as it will be drawn:
 * steam dropped where the product has no opening, and `words.notes` saying where each went and why.
 * Reads the product only when the plan asks for steam or smoke.
 */
export function placeEffects(plan: ScenePlan, product: ProductAtWork, prompt: string): { plan: ScenePlan; vapour: VapourPlacement } {
  const { steam, smoke } = plan.effects;
  if (steam <= 0 && smoke <= 0) return { plan, vapour: { sources: [], behind: false } };
  const image = rgba8(product.rgba, product.w, product.h);
  // a noun in the prompt ("a cup of coffee") settles what the pixels leave open; with several products it names none of them for sure
  const hint = product.boxes.length === 1 ? productKind(prompt) : null;
  const readings = product.boxes.map((b) => detectOpening(image, b, hint));
  const rims = readings.flatMap((r) => (r.opening ? [r.opening] : []));
  // a reused parent plan may carry the parent's notes on these two: this render says its own
  const notes = (plan.words.notes ?? []).filter((n) => !/^(steam|smoke):/.test(n));
  const effects = { ...plan.effects };
  let vapour: VapourPlacement;
  if (rims.length > 0) {
    const why = readings.find((r) => r.opening)!.reason;
    for (const kind of ['steam', 'smoke'] as const) if (effects[kind] > 0) notes.push(`${kind}: rises from the product's opening (${why})`);
    vapour = {
      behind: false,
      sources: rims.map((r) => ({ x: product.x + r.cx, y: product.y + r.cy, halfWidth: r.rx * 0.8, rim: { ...r, cx: product.x + r.cx, cy: product.y + r.cy } })),
    };
  } else {
    const why = readings[0]?.reason ?? 'no product';
    if (steam > 0) {
      effects.steam = 0;
      notes.push(`steam: dropped — the product has no opening for it to rise from (${why})`);
    }
    if (smoke > 0) notes.push(`smoke: rises from behind the product — it has no opening (${why})`);
    // behind the product, off its centre on the side away from the key and from half its height: it
    // drifts up past the product's side and over it, and never seems to come out of the product's top
    const away = Math.sin((plan.light.azimuth * Math.PI) / 180) <= 0 ? 1 : -1;
    const half = halfWidthAt(image, Math.round(product.h * 0.45));
    vapour = { behind: true, sources: [{ x: product.x + half.centre + away * half.halfWidth * 0.6, y: product.y + product.h * 0.45, halfWidth: product.w * 0.15, rim: null }] };
  }
  return { plan: { ...plan, effects, words: { ...plan.words, notes } }, vapour };
}

/** The product's extent along row y (its own pixels): the centre and the half-width. */
function halfWidthAt(img: ReturnType<typeof rgba8>, y: number): { centre: number; halfWidth: number } {
  let x0 = -1;
  let x1 = -1;
  const row = Math.min(img.height - 1, Math.max(0, y));
  for (let x = 0; x < img.width; x++) {
    if (img.data[(row * img.width + x) * 4 + 3]! < 128) continue;
    if (x0 < 0) x0 = x;
    x1 = x;
  }
  return x0 < 0 ? { centre: img.width / 2, halfWidth: img.width / 2 } : { centre: (x0 + x1 + 1) / 2, halfWidth: (x1 - x0 + 1) / 2 };
}

export interface EffectLayers {
  behind: Buffer | null;
  front: Buffer | null;
}

const f = (v: number) => v.toFixed(1);

async function raster(svg: string, w: number, h: number, sigma: number): Promise<Buffer> {
  return (await rasteriseSvg(svg, { width: w, height: h, channels: 4, blur: sigma >= 0.4 ? sigma : undefined })).data;
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

  const warmKey = plan.light.temperature < 4500;
  // without a placement (a caller that did not ask placeEffects), from the centre of the product's top
  const placed: VapourPlacement = ctx.vapour ?? { behind: false, sources: [{ x: box.x + box.w / 2, y: box.y + box.h * 0.08, halfWidth: box.w * 0.2, rim: null }] };
  const vapour = (['steam', 'smoke'] as const).flatMap((kind) => placed.sources.map((source, k) => ({
    layer: renderWisps({
      width: W, height: H, seed: ctx.seed + k * 7919, box, source, amount: e[kind], kind, keySide: side,
      colour: kind === 'smoke' ? [208, 205, 201] : warmKey ? [252, 242, 228] : [244, 246, 248],
    }),
    rim: source.rim,
  }))).filter((v): v is { layer: WispLayer; rim: Rim | null } => v.layer !== null);
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
    const n = Math.round(14 + e.bokeh * 46);
    // Out-of-focus highlights: a disc per light, its rim a little brighter than its body (the
    // lens's spherical aberration), most of them small and far, a few large and near; city lights
    // gather in a band toward the street rather than spreading evenly over the sky.
    const grads = colours.map((c, k) => `<radialGradient id="bk${k}"><stop offset="0" stop-color="${c}" stop-opacity="0.55"/>` +
      `<stop offset="0.82" stop-color="${c}" stop-opacity="0.75"/><stop offset="0.97" stop-color="${c}" stop-opacity="1"/><stop offset="1" stop-color="${c}" stop-opacity="0"/></radialGradient>`);
    const parts: string[] = [`<defs>${grads.join('')}</defs>`];
    const band = env === 'city-night';
    for (let k = 0; k < n; k++) {
      const x = rng() * W;
      const y = band ? ctx.edgeY * (1.02 - 0.75 * rng() ** 1.6) : rng() * Math.max(10, ctx.edgeY * 1.02);
      const r = H * (0.008 + rng() ** 2 * 0.045);
      const c = Math.floor(rng() * colours.length);
      const op = (0.25 + rng() * 0.55) * Math.min(1, 0.4 + e.bokeh);
      parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="url(#bk${c})" fill-opacity="${op.toFixed(2)}"/>`);
    }
    bokehSvg = parts.join('');
  }

  const layers: EffectLayers = { behind: null, front: null };
  if (behindParts.length > 0 || bokehSvg) {
    const soft = behindParts.length > 0 ? await raster(`${open(W, H)}${behindParts.join('')}</svg>`, W, H, behindBlur) : null;
    const disc = bokehSvg ? await raster(`${open(W, H)}${bokehSvg}</svg>`, W, H, Math.max(0.6, H * 0.0015)) : null;
    if (soft && disc) {
      layers.behind = (await composite(rgba8(soft, W, H), [{ image: rgba8(disc, W, H), blend: 'screen' }])).data;
    } else layers.behind = soft ?? disc;
  }
  if (frontParts.length > 0) layers.front = await raster(`${open(W, H)}${frontParts.join('')}</svg>`, W, H, frontBlur);
  if (vapour.length > 0) {
    const over = await Promise.all(vapour.map(async ({ layer: l, rim }) => {
      // resized up from the density field and softened: vapour has no hard edges
      const image = await resize(rgba8(l.data, l.fw, l.fh), l.w, l.h, { kernel: 'cubic', blur: Math.max(0.5, box.w * 0.006) });
      if (rim && ctx.productAlpha) hideBelowRim(image.data, l, rim, box, ctx.productAlpha);
      return { image, left: l.x, top: l.y };
    }));
    if (placed.behind) {
      layers.behind = (await (layers.behind ? composite(rgba8(layers.behind, W, H), over) : composite({ width: W, height: H }, over))).data;
    } else {
      layers.front = (await (layers.front ? composite(rgba8(layers.front, W, H), over) : composite({ width: W, height: H }, over))).data;
    }
  }
  return layers;
}

/**
 * The vessel's front wall and the near half of its rim stand in front of the vapour: over the
 * product's pixels below the rim's centre row, the vapour's alpha goes by the product's cover.
 */
function hideBelowRim(data: Buffer, l: WispLayer, rim: Rim, box: { x: number; y: number; w: number; h: number }, alpha: Uint8Array): void {
  const y0 = Math.max(l.y, Math.ceil(rim.cy));
  for (let y = y0; y < l.y + l.h; y++) {
    const py = y - box.y;
    if (py < 0 || py >= box.h) continue;
    for (let x = Math.max(l.x, box.x); x < Math.min(l.x + l.w, box.x + box.w); x++) {
      const cover = alpha[py * box.w + (x - box.x)]!;
      if (cover === 0) continue;
      const p = ((y - l.y) * l.w + (x - l.x)) * 4 + 3;
      data[p] = Math.round((data[p]! * (255 - cover)) / 255);
    }
  }
}
