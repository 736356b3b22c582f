import { srgbToLinearLut } from './raster/color.js';
import { kth } from './raster/select.js';
import { resizeRgba } from './codec.js';
import type { Raster8 } from './raster/types.js';

/**
 * Product fidelity: how far the placed product's pixels moved from the source's, as CIEDE2000
 * between the two in CIELAB (D65), over the product's fully opaque interior. Both images are
 * brought to one comparison size first, which undoes the placement scale.
 *
 * Two figures are reported apart (fidelityFigures): *product colour kept* — the hue and chroma terms
 * of ΔE2000 alone, against the product as placed before the light touched it: what the studio
 * promises never to change — and *relight* — how far the light moved the placed product (ΔE2000
 * and the mean change of lightness L*), which is the point of relighting, not a loss of fidelity.
 */

export interface DeltaE { mean: number; p95: number }

/** One comparison: full ΔE2000, its hue and chroma terms alone, and the mean signed change of L*. */
export interface Difference { deltaE: DeltaE; hueChroma: DeltaE; lightness: number }

const COMPARE_LONG = 192;

/** CIEDE2000 colour difference (Sharma, Wu, Dalal 2005). */
export function deltaE2000(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number): number {
  return deltaE2000Terms(L1, a1, b1, L2, a2, b2, true);
}

/** CIEDE2000 without its lightness term: how far hue and chroma moved, whatever the light did to lightness. */
export function deltaE2000HueChroma(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number): number {
  return deltaE2000Terms(L1, a1, b1, L2, a2, b2, false);
}

function deltaE2000Terms(L1: number, a1: number, b1: number, L2: number, a2: number, b2: number, withLightness: boolean): number {
  const rad = Math.PI / 180;
  // square roots of sums of squares, not Math.hypot: the same figures (its extra range and
  // precision matter for no Lab value), and a call per pixel fewer
  const C1 = Math.sqrt(a1 * a1 + b1 * b1);
  const C2 = Math.sqrt(a2 * a2 + b2 * b2);
  const Cb = (C1 + C2) / 2;
  const G = 0.5 * (1 - Math.sqrt(Cb ** 7 / (Cb ** 7 + 25 ** 7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.sqrt(a1p * a1p + b1 * b1);
  const C2p = Math.sqrt(a2p * a2p + b2 * b2);
  const h1p = hueDeg(b1, a1p);
  const h2p = hueDeg(b2, a2p);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp / 2) * rad);
  const Lbp = (L1 + L2) / 2;
  const Cbp = (C1p + C2p) / 2;
  let hbp = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) > 180) hbp = h1p + h2p < 360 ? hbp + 360 : hbp - 360;
    hbp /= 2;
  }
  const T = 1 - 0.17 * Math.cos((hbp - 30) * rad) + 0.24 * Math.cos(2 * hbp * rad) + 0.32 * Math.cos((3 * hbp + 6) * rad) - 0.2 * Math.cos((4 * hbp - 63) * rad);
  const dTheta = 30 * Math.exp(-(((hbp - 275) / 25) ** 2));
  const Rc = 2 * Math.sqrt(Cbp ** 7 / (Cbp ** 7 + 25 ** 7));
  const Sl = 1 + (0.015 * (Lbp - 50) ** 2) / Math.sqrt(20 + (Lbp - 50) ** 2);
  const Sc = 1 + 0.045 * Cbp;
  const Sh = 1 + 0.015 * Cbp * T;
  const Rt = -Math.sin(2 * dTheta * rad) * Rc;
  const l = withLightness ? (dLp / Sl) ** 2 : 0;
  return Math.sqrt(Math.max(0, l + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh)));
}

/** Hue angle in degrees, 0..360 (0 for a neutral colour). Top-level: deltaE2000 runs per pixel. */
function hueDeg(b: number, a: number): number {
  if (b === 0 && a === 0) return 0;
  const v = (Math.atan2(b, a) * 180) / Math.PI;
  return v < 0 ? v + 360 : v;
}

async function toCompare(p: Raster8, w: number, h: number): Promise<Buffer> {
  return (await resizeRgba(p, w, h)).data;
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116;
}

function labOf(img: Buffer, idx: number[]): Float64Array {
  const lin = srgbToLinearLut();
  const out = new Float64Array(idx.length * 3);
  for (let k = 0; k < idx.length; k++) {
    const p = idx[k]!;
    const r = lin[img[p * 4]!]!, g = lin[img[p * 4 + 1]!]!, b = lin[img[p * 4 + 2]!]!;
    const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047);
    const fy = labF(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
    const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883);
    out[k * 3] = 116 * fy - 16;
    out[k * 3 + 1] = 500 * (fx - fy);
    out[k * 3 + 2] = 200 * (fy - fz);
  }
  return out;
}

/**
 * ΔE2000 between `source` (RGBA, the cut-out product at source scale, alpha = matte) and each of
 * `placed` (the same region from a result, RGB or RGBA), over pixels the matte holds fully opaque.
 */
export async function measureFidelity(source: Raster8, ...placed: Raster8[]): Promise<DeltaE[]> {
  return (await compareProduct(source, ...placed)).map((d) => d.deltaE);
}

const summary = (values: Float64Array, sum: number): DeltaE => {
  const p95 = kth(values, Math.min(values.length - 1, Math.floor(values.length * 0.95)));
  return { mean: Math.round((sum / values.length) * 100) / 100, p95: Math.round(p95 * 100) / 100 };
};

/** measureFidelity's comparison with its parts: full ΔE2000, hue and chroma alone, the change of lightness. */
export async function compareProduct(source: Raster8, ...placed: Raster8[]): Promise<Difference[]> {
  const { labs, n } = await labsOver(source, placed);
  return labs.slice(1).map((lab) => differ(labs[0]!, lab, n));
}

/** CIELAB of the source and each placed image over the source's opaque pixels, at the comparison size. */
async function labsOver(source: Raster8, placed: Raster8[]): Promise<{ labs: Float64Array[]; n: number }> {
  const s = Math.min(1, COMPARE_LONG / Math.max(source.width, source.height));
  const w = Math.max(1, Math.round(source.width * s));
  const h = Math.max(1, Math.round(source.height * s));
  const a = await toCompare(source, w, h);
  const idx: number[] = [];
  for (let p = 0; p < w * h; p++) if (a[p * 4 + 3]! >= 250) idx.push(p);
  const labs = [labOf(a, idx)];
  for (const patch of placed) labs.push(idx.length === 0 ? new Float64Array(0) : labOf(await toCompare(patch, w, h), idx));
  return { labs, n: idx.length };
}

/** Differences from labA to labB (n pixels each). */
function differ(labA: Float64Array, labB: Float64Array, n: number): Difference {
  if (n === 0) return { deltaE: { mean: 0, p95: 0 }, hueChroma: { mean: 0, p95: 0 }, lightness: 0 };
  const values = new Float64Array(n);
  const hc = new Float64Array(n);
  let sum = 0;
  let sumHc = 0;
  let sumL = 0;
  for (let k = 0; k < n; k++) {
    const L1 = labA[k * 3]!, a1 = labA[k * 3 + 1]!, b1 = labA[k * 3 + 2]!, L2 = labB[k * 3]!, a2 = labB[k * 3 + 1]!, b2 = labB[k * 3 + 2]!;
    const c = deltaE2000HueChroma(L1, a1, b1, L2, a2, b2);
    // the lightness term joins the hue and chroma terms under one root (see deltaE2000Terms)
    const Lb = (L1 + L2) / 2;
    const Sl = 1 + (0.015 * (Lb - 50) ** 2) / Math.sqrt(20 + (Lb - 50) ** 2);
    const d = Math.sqrt(c * c + ((L2 - L1) / Sl) ** 2);
    values[k] = d;
    hc[k] = c;
    sum += d;
    sumHc += c;
    sumL += L2 - L1;
  }
  return { deltaE: summary(values, sum), hueChroma: summary(hc, sumHc), lightness: Math.round((sumL / n) * 100) / 100 };
}

/** What the report says about the product: see the file's comment. */
export interface FidelityFigures {
  /** the final product against the source, light and all (ΔE2000) */
  deltaE: DeltaE;
  /** the product as placed before the light, against the source (ΔE2000): the compositing alone */
  deltaEUnlit: DeltaE;
  /** the headline: hue and chroma of the product as placed before the light, against the source */
  colourKept: DeltaE;
  /** what the light did on purpose: ΔE2000 of the lit product against the unlit one, mean ΔL*, and whether it was on */
  relight: { applied: boolean; deltaE: DeltaE; lightness: number };
}

/**
 * The figures for a placed product: `source` the cut-out, `placed` the product's region of the
 * result, `unlit` the product as placed before relighting (null when relighting is off: then the
 * placed product is the unlit one).
 */
export async function fidelityFigures(source: Raster8, placed: Raster8, unlit: Raster8 | null): Promise<FidelityFigures> {
  const { labs, n } = await labsOver(source, unlit ? [placed, unlit] : [placed]);
  const lit = differ(labs[0]!, labs[1]!, n);
  if (!unlit) return { deltaE: lit.deltaE, deltaEUnlit: lit.deltaE, colourKept: lit.hueChroma, relight: { applied: false, deltaE: { mean: 0, p95: 0 }, lightness: 0 } };
  const flat = differ(labs[0]!, labs[2]!, n);
  // the light's own change: the lit product against the unlit one, over the same pixels
  const change = differ(labs[2]!, labs[1]!, n);
  return {
    deltaE: lit.deltaE, deltaEUnlit: flat.deltaE, colourKept: flat.hueChroma,
    relight: { applied: true, deltaE: change.deltaE, lightness: change.lightness },
  };
}
