import type { ProductKind } from '../../plan/products.js';
import type { Box, Rgba8 } from '../raster/types.js';

/**
 * Where steam or smoke can rise from: the opening of a vessel, read from the cut-out product itself.
 *
 * A cup, mug, dripper or pot seen from slightly above shows its open top as an ellipse: the top of
 * its silhouette is the far half of the rim (its half-width grows from the top row like an ellipse's,
 * up to the rim's full width, and the body below is no wider for a while), and inside the rim the
 * interior (the contents, or the inner wall in shade) looks different from the rim itself. A closed
 * top (a can's lid, a bottle's capsule, a box's lid) has no such interior, a bottle's mouth is a
 * narrow neck on a much wider body, and a chair or a plant has no elliptical top at all.
 *
 * The pixels decide when they are clear; between the two, a noun in the prompt ("a cup of coffee",
 * "this can") settles it (`productKind` in plan/products.ts), and without one there is no opening.
 */

/** The rim's ellipse, in the image's pixels (axis-aligned: the camera looks level or slightly down). */
export interface Rim { cx: number; cy: number; rx: number; ry: number }

export interface OpeningReading {
  opening: Rim | null;
  /** 0..1: how sure the reading is of its answer (opening or none) */
  confidence: number;
  /** in words, for the report */
  reason: string;
  /** what the pixels said, for the table in bench/ and the tests */
  evidence: { fit: number; aspect: number; neck: number; contrast: number; seeThrough: number } | null;
}

/** Alpha at or over this is the product's own pixels. */
const SOLID = 128;

/**
 * Reads the product's top for an opening. `image` is straight-alpha RGBA (the cutout); `region` the
 * one product on it (default: all of it). `hint`, from the prompt, settles what the pixels leave open.
 */
export function detectOpening(image: Rgba8, region?: Box, hint?: ProductKind | null): OpeningReading {
  const px = readOpening(image, region ?? { x: 0, y: 0, width: image.width, height: image.height });
  if (hint && !hint.vessel) {
    return { opening: null, confidence: 0.9, reason: `the product is a ${hint.noun}, not a vessel`, evidence: px.evidence };
  }
  if (px.verdict === 'open') return { opening: px.rim, confidence: px.confidence, reason: px.reason, evidence: px.evidence };
  if (px.verdict === 'closed') return { opening: null, confidence: px.confidence, reason: px.reason, evidence: px.evidence };
  // unclear from the pixels: a vessel named in the prompt settles it
  if (hint?.vessel && px.rim) {
    return { opening: px.rim, confidence: 0.6, reason: `${px.reason}; the prompt names a ${hint.noun}`, evidence: px.evidence };
  }
  return { opening: null, confidence: 0.5, reason: `${px.reason}; nothing in the prompt names a vessel`, evidence: px.evidence };
}

interface PixelReading {
  verdict: 'open' | 'closed' | 'unclear';
  rim: Rim | null;
  confidence: number;
  reason: string;
  evidence: OpeningReading['evidence'];
}

/** The colour difference inside the rim against the rim over which the pixels are clear either way (RGB distance). */
const CLEAR_OPEN = 70;
const CLEAR_CLOSED = 25;
/** The largest mean departure of the top's half-widths from an ellipse's (share of the rim's half-width) that is still a rim. */
const MAX_FIT = 0.05;

function readOpening(img: Rgba8, r: Box): PixelReading {
  const { data, width: W } = img;
  const a = (x: number, y: number) => data[(y * W + x) * 4 + 3]!;
  const none = (reason: string): PixelReading => ({ verdict: 'closed', rim: null, confidence: 0.8, reason, evidence: null });
  // the silhouette's top row and its centre column
  let top = -1;
  for (let y = r.y; y < r.y + r.height && top < 0; y++) for (let x = r.x; x < r.x + r.width; x++) if (a(x, y) >= SOLID) { top = y; break; }
  if (top < 0) return none('no product pixels');
  let bottom = r.y + r.height - 1;
  while (bottom > top && !rowHas(img, r, bottom)) bottom--;
  const H = bottom - top + 1;
  let sx = 0;
  let sw = 0;
  for (let y = top; y < Math.min(top + 2, bottom + 1); y++) for (let x = r.x; x < r.x + r.width; x++) { const v = a(x, y); if (v >= SOLID) { sx += x * v; sw += v; } }
  const xc = sx / sw;
  // each row's half-width about the centre column, the narrower side (a handle widens one side only);
  // by coverage, so anti-aliased edges give fractions of a pixel
  const rows = Math.min(H, Math.max(8, Math.round(H * 0.45)));
  const hw = new Float64Array(rows);
  const left = new Float64Array(rows);
  const right = new Float64Array(rows);
  const ix = Math.round(xc);
  for (let d = 0; d < rows; d++) {
    const y = top + d;
    let L = 0;
    let R = 0;
    // contiguous run from the centre outward: a handle's separate loop is not the body; the cover is
    // counted against the row's own densest alpha, so a see-through glass is as wide as it looks
    let ref = 1;
    for (let yy = y; yy <= Math.min(bottom, y + 3); yy++) for (let x = Math.max(r.x, ix - 3); x <= Math.min(r.x + r.width - 1, ix + 3); x++) ref = Math.max(ref, a(x, yy));
    for (let x = ix - 1; x >= r.x; x--) { const v = a(x, y); if (v === 0 && x < ix - 1) break; L += Math.min(1, v / ref); }
    for (let x = ix; x < r.x + r.width; x++) { const v = a(x, y); if (v === 0 && x > ix) break; R += Math.min(1, v / ref); }
    left[d] = L + (xc - ix);
    right[d] = R - (xc - ix);
    hw[d] = Math.min(left[d]!, right[d]!);
  }
  // the elliptical cap: for each depth b, how well hw(d)/hw(b) follows the ellipse's sqrt(1-(1-d/b)^2)
  // over the cap, and that the body right below is no wider than the rim
  let best = { b: 0, err: Infinity };
  const minB = 2;
  for (let b = minB; b < rows - 2; b++) {
    const ra = hw[b]!;
    if (ra < 3) continue;
    let err = 0;
    for (let d = 0; d <= b; d++) {
      const t = 1 - (d + 0.5) / (b + 0.5);
      const model = ra * Math.sqrt(Math.max(0, 1 - t * t));
      err += Math.abs(hw[d]! - model);
    }
    err /= (b + 1) * ra;
    // below the rim the body does not widen fast (a bottle's mouth opens onto its shoulders)
    const below = hw[Math.min(rows - 1, b + Math.max(2, Math.round(b * 0.5)))]!;
    if (below > ra * 1.12 + 1) err += 0.2;
    if (err < best.err) best = { b, err };
  }
  if (best.b === 0) return none('the top of the product is too small to read');
  const b = best.b;
  const rx = hw[b]!;
  const cxRim = left[b]! > rx * 1.15 || right[b]! > rx * 1.15 ? xc : xc + (right[b]! - left[b]!) / 2;
  const rim: Rim = { cx: cxRim, cy: top + b + 0.5, rx, ry: b + 0.5 };
  const aspect = rim.ry / rim.rx;
  // the widest the product gets (its narrower side, so a handle does not count)
  let widest = 0;
  for (let y = top; y <= bottom; y += Math.max(1, Math.floor(H / 200))) widest = Math.max(widest, sideWidth(img, r, y, ix));
  const neck = rx / Math.max(1, widest);
  // the inside and the rim are read only for a top shaped like a rim
  const shaped = best.err <= MAX_FIT && aspect >= 0.05 && aspect <= 0.75;
  const empty = { r: 0, g: 0, b: 0, a: 0, n: 0 };
  const inside = shaped ? regionStats(img, rim, 0, 0.6) : empty;
  // the rim: the far lip, just under the silhouette's top edge (read from the edge itself, so a matte
  // a pixel tighter or looser does not move it into the inside)
  const ring = shaped ? farLip(img, r, rim) : empty;
  const contrast = inside.n > 0 && ring.n > 0 ? Math.hypot(inside.r - ring.r, inside.g - ring.g, inside.b - ring.b) : 0;
  // a see-through product (a glass): its opening may look like its rim, but a wide top on a clear body is open
  const seeThrough = Math.max(inside.n > 0 && ring.n > 0 ? Math.max(0, ring.a - inside.a) / 255 : 0, translucentShare(img, r, Math.ceil(rim.cy + rim.ry), bottom));
  const evidence = { fit: round(best.err, 3), aspect: round(aspect, 3), neck: round(neck, 3), contrast: round(contrast, 1), seeThrough: round(seeThrough, 3) };
  const at = `rim ${Math.round(rim.rx * 2)}×${Math.round(rim.ry * 2)} px`;
  if (best.err > MAX_FIT) return { verdict: 'closed', rim: null, confidence: 0.75, reason: 'the top of the product is not an elliptical rim', evidence };
  if (aspect < 0.05 || aspect > 0.75) return { verdict: 'closed', rim: null, confidence: 0.7, reason: `the top's ellipse (${at}) is not a rim seen from above`, evidence };
  if (rim.rx < 4 || rim.ry < 1.5 || inside.n < 12) return { verdict: 'closed', rim: null, confidence: 0.6, reason: `the top (${at}) is too small to show an opening`, evidence };
  if (neck < 0.3) return { verdict: 'closed', rim: null, confidence: 0.75, reason: `a narrow top (${Math.round(neck * 100)}% of the product's width), as a bottle's neck`, evidence };
  if (seeThrough > 0.35) return { verdict: 'open', rim, confidence: 0.8, reason: `a see-through vessel with a wide rim (${at})`, evidence };
  if (contrast >= CLEAR_OPEN) {
    return { verdict: 'open', rim, confidence: Math.min(0.95, 0.7 + (contrast - CLEAR_OPEN) / 200), reason: `an open top: the inside of the rim differs from it (${at})`, evidence };
  }
  if (contrast < CLEAR_CLOSED) return { verdict: 'closed', rim, confidence: 0.7, reason: `a closed top: the inside of the rim (${at}) looks like the rim itself`, evidence };
  return { verdict: 'unclear', rim, confidence: 0.5, reason: `the top (${at}) may be open or a lid`, evidence };
}

/** The share of the product's pixels between rows y0 and y1 that are see-through (alpha well between 0 and 255). */
function translucentShare(img: Rgba8, r: Box, y0: number, y1: number): number {
  let clear = 0;
  let all = 0;
  for (let y = Math.max(r.y, y0); y <= Math.min(r.y + r.height - 1, y1); y += 2) {
    for (let x = r.x, p = (y * img.width + r.x) * 4 + 3; x < r.x + r.width; x++, p += 4) {
      const v = img.data[p]!;
      if (v < 60) continue;
      all++;
      if (v < 225) clear++;
    }
  }
  return all > 0 ? clear / all : 0;
}

const round = (v: number, k: number) => Math.round(v * 10 ** k) / 10 ** k;

function rowHas(img: Rgba8, r: Box, y: number): boolean {
  for (let x = r.x; x < r.x + r.width; x++) if (img.data[(y * img.width + x) * 4 + 3]! >= SOLID) return true;
  return false;
}

/** The narrower side's contiguous extent from the centre column at row y. */
function sideWidth(img: Rgba8, r: Box, y: number, ix: number): number {
  const a = (x: number) => img.data[(y * img.width + x) * 4 + 3]!;
  if (a(ix) < SOLID) return 0;
  let L = 0;
  let R = 0;
  for (let x = ix - 1; x >= r.x && a(x) >= SOLID; x--) L++;
  for (let x = ix + 1; x < r.x + r.width && a(x) >= SOLID; x++) R++;
  return Math.min(L, R) + 0.5;
}

/**
 * The colour of the far half of the rim's lip: in each column over the middle of the rim, the first
 * few solid pixels under the silhouette's top edge (their median colour).
 */
function farLip(img: Rgba8, r: Box, rim: Rim): { r: number; g: number; b: number; a: number; n: number } {
  const { data, width: W } = img;
  const depth = Math.max(1, Math.round(rim.ry * 0.06));
  const colours = new Colours();
  const x0 = Math.max(r.x, Math.round(rim.cx - rim.rx * 0.7));
  const x1 = Math.min(r.x + r.width - 1, Math.round(rim.cx + rim.rx * 0.7));
  const yMax = Math.min(r.y + r.height - 1, Math.ceil(rim.cy));
  for (let x = x0; x <= x1; x++) {
    let y = Math.max(r.y, Math.floor(rim.cy - rim.ry * 1.3));
    while (y <= yMax && data[(y * W + x) * 4 + 3]! < 200) y++;
    for (let k = 0; k < depth && y + k <= yMax; k++) {
      const p = ((y + k) * W + x) * 4;
      if (data[p + 3]! < 200) break;
      colours.add(data, p);
    }
  }
  const [cr, cg, cb] = colours.median();
  return { r: cr, g: cg, b: cb, a: 255, n: colours.n };
}

/** Per-channel histograms of solid pixels, read back as the median colour: a can's tab or a logo on a lid does not move it. */
class Colours {
  private readonly h = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  n = 0;
  add(data: Buffer, p: number): void {
    this.h[0]![data[p]!]!++; this.h[1]![data[p + 1]!]!++; this.h[2]![data[p + 2]!]!++;
    this.n++;
  }
  median(): [number, number, number] {
    return this.h.map((h) => {
      let seen = 0;
      for (let v = 0; v < 256; v++) { seen += h[v]!; if (seen * 2 >= this.n) return v; }
      return 255;
    }) as [number, number, number];
  }
}

/** Median colour (of the solid pixels) and mean alpha of the product between two scaled copies of the rim's ellipse. */
function regionStats(img: Rgba8, rim: Rim, k0: number, k1: number): { r: number; g: number; b: number; a: number; n: number } {
  const { data, width: W, height: H } = img;
  const colours = new Colours();
  let al = 0;
  let n = 0;
  for (let y = Math.max(0, Math.floor(rim.cy - rim.ry * k1)); y <= Math.min(H - 1, Math.ceil(rim.cy + rim.ry * k1)); y++) {
    for (let x = Math.max(0, Math.floor(rim.cx - rim.rx * k1)); x <= Math.min(W - 1, Math.ceil(rim.cx + rim.rx * k1)); x++) {
      const ex = (x + 0.5 - rim.cx) / rim.rx;
      const ey = (y + 0.5 - rim.cy) / rim.ry;
      const kk = ex * ex + ey * ey;
      if (kk < k0 * k0 || kk > k1 * k1) continue;
      const p = (y * W + x) * 4;
      // see-through and edge pixels count toward the alpha only: their colour is partly the backdrop's
      al += data[p + 3]!;
      n++;
      if (data[p + 3]! >= 200) colours.add(data, p);
    }
  }
  const [r, g, b] = colours.median();
  return { r, g, b, a: al / Math.max(1, n), n };
}
