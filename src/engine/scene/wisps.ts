import { createRng, fbmField, sample, smoothstep, type NoiseField } from '../raster/noise.js';

/**
 * Steam and smoke as a density field rather than strokes: each wisp is a thin filament rising from
 * the product's opening, pushed sideways by slow sway and a turbulent warp that grows with height,
 * widening and thinning out as it rises (the same vapour spread over a wider column), and broken
 * into patches by noise. Densest and brightest just above the source; gone by the top. The result
 * is an RGBA layer for a "screen" blend, so it shows where it is lit against something darker and
 * vanishes over white, as real vapour does.
 */

export interface WispOptions {
  /** frame size in working pixels */
  width: number;
  height: number;
  seed: number;
  /** the product's box, working pixels: the vapour's scale (how high it rises, how far it sways) */
  box: { x: number; y: number; w: number; h: number };
  /**
   * where it rises from, working pixels: the centre of a vessel's opening (its rim's centre row) and
   * the half-width it leaves over (the rim's, a little inside it)
   */
  source: { x: number; y: number; halfWidth: number };
  /** 0..1 from the plan */
  amount: number;
  kind: 'steam' | 'smoke';
  /** sRGB colour of the lit vapour */
  colour: [number, number, number];
  /** -1 key from the left, 1 from the right: that side of each wisp catches more light, and the air carries the vapour away from it */
  keySide: number;
}

export interface WispLayer {
  /** RGBA, straight alpha, at the density field's size `fw`×`fh` */
  data: Buffer;
  fw: number;
  fh: number;
  /** where it goes in the frame, and its size there */
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Working resolution of the density field (long side); it is resized up and softened after. */
const FIELD_LONG = 200;

export function renderWisps(o: WispOptions): WispLayer | null {
  if (o.amount <= 0) return null;
  const { box, source } = o;
  const smoke = o.kind === 'smoke';
  // the region the vapour can reach: above the opening, a little wider than the opening and its sway
  const rise = box.h * (smoke ? 1.25 : 1.1) * (0.75 + o.amount * 0.35);
  const halfW = source.halfWidth + box.w * (smoke ? 0.55 : 0.4);
  const x0 = Math.max(0, Math.floor(source.x - halfW));
  const x1 = Math.min(o.width, Math.ceil(source.x + halfW));
  const srcY = source.y;
  const y0 = Math.max(0, Math.floor(srcY - rise));
  const y1 = Math.min(o.height, Math.ceil(srcY + box.h * 0.04));
  const w = x1 - x0;
  const h = y1 - y0;
  if (w < 4 || h < 4) return null;
  const q = Math.min(1, FIELD_LONG / Math.max(w, h));
  const fw = Math.max(4, Math.round(w * q));
  const fh = Math.max(4, Math.round(h * q));

  const rng = createRng(o.seed, smoke ? 73 : 71);
  const warp: NoiseField = fbmField(o.seed, smoke ? 75 : 74, 128, 3, 4, 0.55);
  const breakup: NoiseField = fbmField(o.seed, smoke ? 77 : 76, 128, 4, 4, 0.6);
  // steam leaves the whole surface of the opening (a wide dripper several wisps apart), smoke a narrow source
  const spanW = smoke ? Math.min(source.halfWidth, box.w * 0.06) : source.halfWidth * 1.5;
  // the air carries the vapour away from the key's side (a window's draught), a little more as it rises
  const air = -o.keySide * box.w * (smoke ? 0.14 : 0.1);
  const wisps = Array.from({ length: 4 }, (_, k) => ({
    // the main wisp near the middle, the others spread over the opening (left, middle, right, jittered)
    x: source.x + (k === 0 ? (rng() - 0.5) * 0.3 : (k - 2) * 0.45 + (rng() - 0.5) * 0.3) * spanW,
    height: rise * (k === 0 ? 1 : 0.55 + rng() * 0.4),
    sway: box.w * (0.07 + rng() * 0.1) * (k % 2 === 0 ? 1 : -1),
    freq: 0.9 + rng() * 0.9,
    phase: rng() * Math.PI * 2,
    drift: (rng() - 0.5) * box.w * (smoke ? 0.5 : 0.3) + air,
    u: rng() * 128,
    v: rng() * 128,
    weight: k === 0 ? 1 : 0.55 + rng() * 0.35,
  }));
  const sigma0 = box.w * (smoke ? 0.01 : 0.008);
  const spread = box.w * (smoke ? 0.09 : 0.06);
  const turb = box.w * (smoke ? 0.3 : 0.24);
  const scale = 128 / Math.max(1, box.w * 0.9);
  const peak = Math.min(0.9, 0.35 + o.amount * 0.55);

  const density = new Float32Array(fw * fh);
  const shade = new Float32Array(fw * fh);
  // per row and wisp, everything that depends only on the height: where its centre is, how wide it
  // is, how much vapour is left and how far the turbulence can push it
  const rows = wisps.map(() => ({ on: false, tt: 0, turbAmp: 0, centre: 0, sigma: 1, along: 0, reach: 0 }));
  for (let j = 0; j < fh; j++) {
    const y = y0 + (j + 0.5) / q;
    let any = false;
    wisps.forEach((s, k) => {
      const r = rows[k]!;
      const t = (srcY - y) / s.height;
      r.on = t >= -0.03 && t <= 1;
      if (!r.on) return;
      any = true;
      const tt = Math.max(0, t);
      r.tt = tt;
      // turbulence grows with height: the flow leaves the warm opening laminar and breaks up
      r.turbAmp = turb * tt ** 1.2;
      r.centre = s.x + s.sway * tt ** 1.1 * Math.sin(Math.PI * 2 * s.freq * tt + s.phase) + s.drift * tt * tt;
      r.sigma = sigma0 + spread * tt ** 1.4;
      // mass spreads over a wider column as it rises, so the density falls with the width
      r.along = smoothstep(-0.03, 0.07, t) * (1 - smoothstep(0.5, 1, t)) * (sigma0 * 3) / (sigma0 + r.sigma) * s.weight;
      // beyond this the gaussian is below 0.01 even at the turbulence's largest push
      r.reach = 3.1 * r.sigma + r.turbAmp * 1.7;
    });
    if (!any) continue;
    for (let i = 0; i < fw; i++) {
      const x = x0 + (i + 0.5) / q;
      let d = 0;
      let lit = 0;
      for (let k = 0; k < wisps.length; k++) {
        const r = rows[k]!;
        if (!r.on || r.along <= 0 || Math.abs(x - r.centre) > r.reach) continue;
        const s = wisps[k]!;
        const dx = x + sample(warp, x * scale + s.u, y * scale + s.v) * r.turbAmp - r.centre;
        const z = dx / r.sigma;
        if (z * z > 9.2) continue;
        const across = Math.exp(-0.5 * z * z);
        const patches = Math.min(1, Math.max(0, 0.55 + 0.9 * sample(breakup, x * scale * 1.7 + s.v, y * scale * 1.7 + s.u - r.tt * 40)));
        const v = across * r.along * patches;
        d += v;
        // the side toward the key catches more light
        lit += v * (0.5 + 0.5 * Math.tanh(z * o.keySide * 0.8));
      }
      density[j * fw + i] = d;
      shade[j * fw + i] = d > 1e-5 ? lit / d : 0.5;
    }
  }
  const data = Buffer.alloc(fw * fh * 4);
  const [cr, cg, cb] = o.colour;
  for (let p = 0; p < fw * fh; p++) {
    const a = peak * (1 - Math.exp(-density[p]! * 2.2));
    const b = 0.72 + 0.28 * shade[p]!;
    data[p * 4] = Math.round(cr * b);
    data[p * 4 + 1] = Math.round(cg * b);
    data[p * 4 + 2] = Math.round(cb * b);
    data[p * 4 + 3] = Math.round(a * 255);
  }
  return { data, fw, fh, x: x0, y: y0, w, h };
}
