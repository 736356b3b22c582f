import type { Raster8 } from '../raster/types.js';
import type { BackgroundModel } from './background.js';
import { kth } from '../raster/select.js';
import { labelRegions } from '../raster/regions.js';
import { boxMean, dilateMask, markHalf } from './filters.js';

/**
 * Clear, untinted glass on a modelled plain backdrop. The model calls a clear wine glass product with
 * p ≥ 0.995 over its whole bowl, and the see-through fit of matte.ts needs a tint to measure; a clear
 * glass has none: each of its pixels is the backdrop behind it, attenuated, plus a highlight,
 * `C ≈ t·B + h`, with no colour of its own. Its alpha is then `1 - t` over a black foreground (white
 * where a highlight adds light).
 *
 * Shading on an opaque white product is also the backdrop's colour scaled, so that alone proves nothing.
 * What tells glass apart is how the attenuation is laid out over a product (one connected part of the
 * matte), judged on its distance from the outline:
 * - the rim: the outer band, a few pixels wide, is clearly darker than the inside (the walls seen edge on);
 * - the fall-off is sharp: right inside the rim the attenuation is already the inside's;
 * - the inside is flat: nearly all of it is within a few percent of one transmission, apart from highlights.
 * An opaque body's shading falls off smoothly toward its silhouette over a large part of its width (and
 * is lit on one side), so it fails the second and third; a flat face of a box has no dark rim.
 */

export interface GlassInput {
  /** the working image, S*H RGBA (the model's input) */
  small: Raster8;
  /** the fused prior at the small size, 0..1 */
  prior: Float32Array;
  bg: BackgroundModel;
  /** bg rendered at the small size */
  bgImg: Float32Array;
  /** the backdrop trust per small pixel (matte.ts Evidence.trust); glass is judged only where it is trusted */
  trust?: Float32Array;
  /** the trust from which the backdrop steps may act */
  trusted?: number;
}

/** What {@link clearGlass} measured on one part of the product (for tests and tuning). */
export interface GlassCues {
  /** pixels of the part, at the small size */
  area: number;
  /** median transmission of the inside (neutral pixels, highlights left out) */
  inside: number;
  /** share of the inside whose colour is the backdrop's scaled (no colour of its own) */
  neutral: number;
  /** share of the inside within FLAT of the median transmission */
  flat: number;
  /** mean transmission of the rim band */
  rim: number;
  /** share of the rim band darker than the inside by DARKER or more */
  rimDark: number;
  /** share of the band right inside the rim within FLAT of the inside */
  sharp: number;
  /** mean backdrop trust over the part */
  trust: number;
  glass: boolean;
}

export interface GlassResult {
  /** 1 on the small pixels of the parts judged clear glass, dilated by one pixel to cover the edge */
  mask: Uint8Array;
  /**
   * per small pixel: how much darker the backdrop just around the product is than its model (1 = not at
   * all): a glass foot stands in its contact shadow, and the shadow seen through it is not glass
   */
  shade: Float32Array; // empty when no part is glass (only the glass's alpha reads it)
  cues: GlassCues[];
}

/** how close to the inside's transmission a flat pixel is */
const FLAT = 0.04;
/** how much darker than the inside a rim pixel is */
const DARKER = 0.08;

/**
 * Finds the parts of the product that are clear glass. Returns null when the backdrop is not plain or
 * the product has no part large enough to judge; otherwise the mask (possibly empty) and the cues measured.
 */
export function clearGlass({ small, prior, bg, bgImg, trust, trusted = 0.8 }: GlassInput): GlassResult | null {
  if (!bg.plain) return null;
  const { width: S, height: H, data } = small;
  const n = S * H;
  // each pass over the pixels is a top-level function of its own: this runs once per image, and V8
  // compiles a hot loop together with the function around it (see refineMatte in matte.ts)
  const fg = new Uint8Array(n);
  markHalf(prior, fg);
  const { label, counts: areas, first, last } = labelRegions(fg, 1, S, H);
  const minArea = n * 0.005;
  if (!areas.some((a) => a >= minArea)) return null;
  // the rim's width: the walls seen edge on are a few pixels at the model's size
  const rw = Math.max(2, Math.round(S * 0.006));
  // colours smoothed over a small window: the transmission differs from the inside's by a few levels
  const sr = Math.max(1, Math.round(S / 384));
  // only the product's pixels are read, so every pass below works in its box, grown by the widest window
  // read around them: off the product the distance and the core are 0, and the window sums are of whole
  // levels or of 0s and 1s, exact in any order, so the means are those of the whole image
  const box = boxOf(fg, S, H, Math.max(sr, 2 * rw));
  const dist = chamfer(fg, S, H, box);
  const planes = [0, 1, 2].map((c) => boxMean(channelIn(data, S, box, c), box.w, box.h, sr)) as [Float32Array, Float32Array, Float32Array];
  const t = new Float32Array(n), resid = new Float32Array(n);
  transmissionIn(box, S, fg, bgImg, planes[0], planes[1], planes[2], t, resid);
  const tolN = 2 + 1.5 * bg.noise;
  // the band right inside the rim is judged only next to the inside: a thin part (a stem, a foot) is all rim
  const nearCore = coreNear(dist, 4 * rw, S, box, 2 * rw);
  const mask = new Uint8Array(n);
  const cues: GlassCues[] = [];
  for (let id = 0; id < areas.length; id++) {
    if (areas[id]! < minArea) continue;
    const c = judge(id, areas[id]!, first[id]!, last[id]!, label, dist, nearCore, t, resid, trust, rw, tolN);
    c.glass = c.trust >= trusted && c.neutral >= 0.9 && c.inside >= 0.6 && c.inside <= 0.97 && c.flat >= 0.85 &&
      c.rimDark >= 0.7 && c.inside - c.rim >= 0.12 && c.sharp >= 0.55;
    cues.push(c);
    if (c.glass) markLabel(label, id, first[id]!, last[id]!, mask);
  }
  // the shade map serves only the glass's alpha: no glass, no map (six window means saved per cutout)
  const shade = cues.some((c) => c.glass) ? shadeAround(fg, data, bgImg, S, H, 3 * rw) : new Float32Array(0);
  return { mask: dilateMask(mask, S, H, 1), shade, cues };
}

/** Within the box: the window mean (radius r) of the core, the pixels farther than d from the outline; 0 outside the box. */
function coreNear(dist: Float32Array, d: number, S: number, { x, y, w, h }: Box, r: number): Float32Array {
  const core = new Float32Array(w * h);
  for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) core[yy * w + xx] = dist[(y + yy) * S + x + xx]! > d ? 1 : 0;
  const near = boxMean(core, w, h, r);
  const out = new Float32Array(dist.length);
  for (let yy = 0; yy < h; yy++) out.set(near.subarray(yy * w, yy * w + w), (y + yy) * S + x);
  return out;
}

function markLabel(label: Int32Array, id: number, from: number, to: number, out: Uint8Array): void {
  for (let i = from; i <= to; i++) if (label[i] === id) out[i] = 1;
}

/**
 * Within the box, at each product pixel: the transmission t that best scales the backdrop to the
 * (smoothed) colour, and the colour's distance from that scaled backdrop (resid). P0..P2 are the box's planes.
 */
function transmissionIn(box: Box, S: number, fg: Uint8Array, bgImg: Float32Array, P0: Float32Array, P1: Float32Array, P2: Float32Array, t: Float32Array, resid: Float32Array): void {
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x, q = (y - box.y) * box.w; x < box.x + box.w; x++, q++) {
      const i = y * S + x;
      if (!fg[i]) continue;
      const B0 = bgImg[i * 3]!, B1 = bgImg[i * 3 + 1]!, B2 = bgImg[i * 3 + 2]!;
      const C0 = P0[q]!, C1 = P1[q]!, C2 = P2[q]!;
      const bb = B0 * B0 + B1 * B1 + B2 * B2 || 1;
      const ti = (C0 * B0 + C1 * B1 + C2 * B2) / bb;
      t[i] = ti;
      const r0 = C0 - ti * B0, r1 = C1 - ti * B1, r2 = C2 - ti * B2;
      resid[i] = Math.sqrt((r0 * r0 + r1 * r1 + r2 * r2) / 3);
    }
  }
}

function judge(id: number, areaOf: number, from: number, to: number, label: Int32Array, dist: Float32Array, nearCore: Float32Array, t: Float32Array, resid: Float32Array, trust: Float32Array | undefined, rw: number, tolN: number): GlassCues {
  // the inside's transmissions, at most one per pixel of the part (exact: t holds float32 values)
  const inside = new Float64Array(areaOf);
  const cues: GlassCues = { area: 0, inside: 0, neutral: 0, flat: 0, rim: 0, rimDark: 0, sharp: 0, trust: 0, glass: false };
  const count = insideOf(id, from, to, label, dist, t, resid, trust, rw, tolN, inside, cues);
  if (count < 50) return cues;
  // the median by selection (a sort of a large part's inside took most of the check's time)
  const values = inside.subarray(0, count);
  const med = kth(values, Math.floor(count / 2));
  cues.inside = med;
  cues.flat = flatShare(values, med);
  rimOf(id, from, to, label, dist, nearCore, t, rw, med, cues);
  return cues;
}

/** The part's area, trust and neutral share into `cues`; the transmissions of its neutral inside into `inside`. Returns their count. */
function insideOf(id: number, from: number, to: number, label: Int32Array, dist: Float32Array, t: Float32Array, resid: Float32Array, trust: Float32Array | undefined, rw: number, tolN: number, inside: Float64Array, cues: GlassCues): number {
  let area = 0, coreAll = 0, coreNeutral = 0, trustSum = 0;
  for (let i = from; i <= to; i++) {
    if (label[i] !== id) continue;
    area++;
    trustSum += trust ? trust[i]! : 1;
    if (dist[i]! <= 4 * rw) continue;
    coreAll++;
    if (resid[i]! <= tolN) inside[coreNeutral++] = t[i]!;
  }
  cues.area = area;
  cues.neutral = coreAll ? coreNeutral / coreAll : 0;
  cues.trust = area ? trustSum / area : 0;
  return coreNeutral;
}

/** The share of the inside within FLAT of its median: highlights (brighter) are glass too, only the darker spread counts against it. */
function flatShare(values: Float64Array, med: number): number {
  let flat = 0;
  for (let j = 0; j < values.length; j++) { const v = values[j]!; if (v - med <= FLAT && med - v <= FLAT || v > med) flat++; }
  return flat / values.length;
}

/** The rim's cues and the sharpness of the fall-off right inside it, into `cues`. */
function rimOf(id: number, from: number, to: number, label: Int32Array, dist: Float32Array, nearCore: Float32Array, t: Float32Array, rw: number, med: number, cues: GlassCues): void {
  let rimN = 0, rimSum = 0, rimDark = 0, midN = 0, midFlat = 0;
  for (let i = from; i <= to; i++) {
    if (label[i] !== id) continue;
    const d = dist[i]!;
    if (d >= 1 && d <= rw) { rimN++; rimSum += t[i]!; if (t[i]! <= med - DARKER) rimDark++; }
    else if (d > 2 * rw && d <= 4 * rw && nearCore[i]! > 0) { midN++; if (Math.abs(t[i]! - med) <= FLAT || t[i]! > med) midFlat++; }
  }
  cues.rim = rimN ? rimSum / rimN : 1;
  cues.rimDark = rimN ? rimDark / rimN : 0;
  cues.sharp = midN ? midFlat / midN : 0;
}

interface Box { x: number; y: number; w: number; h: number }

/** The bounding box of the set pixels of m, grown by `pad` and clipped to the image (empty m: the whole image). */
function boxOf(m: Uint8Array, S: number, H: number, pad: number): Box {
  let x0 = S, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0, i = y * S; x < S; x++, i++) {
      if (!m[i]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 < 0) return { x: 0, y: 0, w: S, h: H };
  x0 = Math.max(0, x0 - pad); y0 = Math.max(0, y0 - pad);
  x1 = Math.min(S - 1, x1 + pad); y1 = Math.min(H - 1, y1 + pad);
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** Channel c of the RGBA image (S wide) within the box, as a float plane of the box's size. */
function channelIn(data: Uint8Array, S: number, { x, y, w, h }: Box, c: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) out[yy * w + xx] = data[((y + yy) * S + x + xx) * 4 + c]!;
  return out;
}

/** {@link GlassResult.shade}: the backdrop's observed grey level over its model's, among the backdrop pixels within r. */
function shadeAround(fg: Uint8Array, data: Buffer, bgImg: Float32Array, S: number, H: number, r: number): Float32Array {
  const n = S * H;
  const w = new Float32Array(n), seen = new Float32Array(n), modelled = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (fg[i]) continue;
    w[i] = 1;
    seen[i] = data[i * 4]! + data[i * 4 + 1]! + data[i * 4 + 2]!;
    modelled[i] = bgImg[i * 3]! + bgImg[i * 3 + 1]! + bgImg[i * 3 + 2]!;
  }
  const wm = boxMean(w, S, H, r), sm = boxMean(seen, S, H, r), mm = boxMean(modelled, S, H, r);
  // inside a wide part, the backdrop within a window three times as wide
  const ww = boxMean(w, S, H, 3 * r), sw = boxMean(seen, S, H, 3 * r), mw = boxMean(modelled, S, H, 3 * r);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const near = wm[i]! > 0.05 && mm[i]! > 0;
    const ratio = near ? sm[i]! / mm[i]! : ww[i]! > 0.02 && mw[i]! > 0 ? sw[i]! / mw[i]! : 1;
    out[i] = Math.min(1, Math.max(0.25, ratio));
  }
  return out;
}

/**
 * Distance in pixels from each product pixel to the nearest pixel off the product (3-4 chamfer; the frame's
 * edge counts as off), computed within `box`, which holds the product with a margin (0 outside it).
 */
function chamfer(fg: Uint8Array, S: number, H: number, box: Box): Float32Array {
  const BIG = 1e9;
  const d = new Float32Array(S * H);
  const x1 = box.x + box.w, y1 = box.y + box.h;
  for (let y = box.y; y < y1; y++) for (let i = y * S + box.x, e = y * S + x1; i < e; i++) d[i] = fg[i] ? BIG : 0;
  // a neighbour off the frame reads 0 (off the product), as does one outside the box
  for (let y = box.y; y < y1; y++) chamferForward(d, S, y, box.x, x1);
  for (let y = y1 - 1; y >= box.y; y--) chamferBackward(d, S, H, y, box.x, x1);
  for (let y = box.y; y < y1; y++) for (let i = y * S + box.x, e = y * S + x1; i < e; i++) d[i] = d[i]! / 3;
  return d;
}

function chamferForward(d: Float32Array, S: number, y: number, x0: number, x1: number): void {
  const row = y * S;
  for (let x = x0; x < x1; x++) {
    const i = row + x;
    let v = d[i]!;
    if (!v) continue;
    const l = x > 0 ? d[i - 1]! + 3 : 3;
    if (l < v) v = l;
    const u = y > 0 ? d[i - S]! + 3 : 3;
    if (u < v) v = u;
    const ul = y > 0 && x > 0 ? d[i - S - 1]! + 4 : 4;
    if (ul < v) v = ul;
    const ur = y > 0 && x < S - 1 ? d[i - S + 1]! + 4 : 4;
    if (ur < v) v = ur;
    d[i] = v;
  }
}

function chamferBackward(d: Float32Array, S: number, H: number, y: number, x0: number, x1: number): void {
  const row = y * S;
  for (let x = x1 - 1; x >= x0; x--) {
    const i = row + x;
    let v = d[i]!;
    if (!v) continue;
    const r = x < S - 1 ? d[i + 1]! + 3 : 3;
    if (r < v) v = r;
    const b = y < H - 1 ? d[i + S]! + 3 : 3;
    if (b < v) v = b;
    const br = y < H - 1 && x < S - 1 ? d[i + S + 1]! + 4 : 4;
    if (br < v) v = br;
    const bl = y < H - 1 && x > 0 ? d[i + S - 1]! + 4 : 4;
    if (bl < v) v = bl;
    d[i] = v;
  }
}

/**
 * The glass's alpha and foreground at full resolution, where `mask` (small size, see {@link clearGlass})
 * is set: each pixel's transmission against the modelled backdrop gives `alpha = 1 - t` over black; a
 * pixel brighter than the backdrop is a highlight, white with the alpha that adds its light. The alpha
 * only ever goes down (the refined edge stands where it is lower), and a pixel with a colour of its own
 * (a printed mark on the glass) keeps what it had. The backdrop is taken as shaded as it is right around the
 * product (a contact shadow under the foot). Returns the number of pixels changed.
 */
export function applyClearGlass(alpha: Buffer, fg: Buffer, image: Raster8, { mask, shade }: GlassResult, S: number, SH: number, bg: BackgroundModel): number {
  const { width: w, height: h, data } = image;
  const Bc = new Float32Array(3);
  const tolN = 6 + 3 * bg.noise;
  const backdrop = bg.pixels(w, h);
  let changed = 0;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(SH - 1, Math.floor(((y + 0.5) * SH) / h));
    for (let x = 0; x < w; x++) {
      const s = y * w + x;
      const a0 = alpha[s]!;
      const j = sy * S + Math.min(S - 1, Math.floor(((x + 0.5) * S) / w));
      if (a0 === 0 || !mask[j]) continue;
      backdrop.at(x, y, Bc);
      const k = shade[j]!;
      Bc[0]! *= k; Bc[1]! *= k; Bc[2]! *= k;
      const C0 = data[s * 4]!, C1 = data[s * 4 + 1]!, C2 = data[s * 4 + 2]!;
      const B0 = Bc[0]!, B1 = Bc[1]!, B2 = Bc[2]!;
      const bb = B0 * B0 + B1 * B1 + B2 * B2 || 1;
      const t = (C0 * B0 + C1 * B1 + C2 * B2) / bb;
      const r0 = C0 - t * B0, r1 = C1 - t * B1, r2 = C2 - t * B2;
      if (Math.sqrt((r0 * r0 + r1 * r1 + r2 * r2) / 3) > tolN) continue;
      let a: number;
      if (t <= 1) a = 1 - t;
      else {
        // a highlight: white laid over the backdrop
        const lb = (B0 + B1 + B2) / 3, lc = (C0 + C1 + C2) / 3;
        a = lb < 254 ? (lc - lb) / (255 - lb) : 1;
      }
      const a8 = Math.min(a0, Math.max(0, Math.min(255, Math.round(a * 255))));
      if (a8 === a0) continue;
      alpha[s] = a8;
      fg[s * 4 + 3] = a8;
      const aa = Math.max(a8 / 255, 0.05);
      fg[s * 4] = clamp255(B0 + (C0 - B0) / aa);
      fg[s * 4 + 1] = clamp255(B1 + (C1 - B1) / aa);
      fg[s * 4 + 2] = clamp255(B2 + (C2 - B2) / aa);
      changed++;
    }
  }
  return changed;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
