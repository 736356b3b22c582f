import sharp from 'sharp';
import { FIXTURES, renderRaw, type FixtureName } from '../fixtures/index.js';

/**
 * What a generative upstream does to the product it was given, for the product-lock tests and the
 * fake upstreams: the scene around it is repainted, and the product drifts the way image models let
 * it drift — shifted (≤ 5 % of the frame), scaled (0.9–1.1), rotated (≤ 3°), hue and exposure
 * shifted, its outline redrawn, its label blurred — or, in some cases, its silhouette changed
 * (a part missing, stretched, a part added) so much that a strict lock must refuse it.
 *
 * The drifted product is drawn with its own bilinear warp (not the engine's), and the transform it
 * was drawn with is returned as the truth the lock's answer is checked against: the product's pixel
 * centres (u, v), about their centre ((w−1)/2, (h−1)/2), are scaled, rotated clockwise on screen and
 * moved to the layout position plus (dx, dy).
 */

export interface Drift {
  name: string;
  /** shift of the product's centre as a share of the frame's width and height */
  shift: [number, number];
  scale: number;
  /** degrees */
  rotation: number;
  /** hue rotation, degrees */
  hue: number;
  /** exposure change, stops */
  exposure: number;
  /** gaussian blur over the product's middle band (its label), pixels */
  labelBlur: number;
  /** the outline redrawn: a wobble of about a pixel along the edge */
  redrawEdges: boolean;
  /** a change of silhouette a strict lock must refuse */
  silhouette?: 'top-missing' | 'stretched' | 'part-added';
}

export interface Rgba { data: Buffer; width: number; height: number; channels: 4 }
export interface Rgb { data: Buffer; width: number; height: number; channels: 3 }
export interface Rect { x: number; y: number; width: number; height: number }

/** The cases the lock tests run: accepted drifts first, then the silhouette changes. */
export const DRIFTS: Drift[] = [
  { name: 'shift only', shift: [0.03, -0.02], scale: 1, rotation: 0, hue: 0, exposure: 0, labelBlur: 0, redrawEdges: false },
  { name: 'shift, scale up, rotate', shift: [-0.05, 0.03], scale: 1.08, rotation: 2.5, hue: 8, exposure: 0.3, labelBlur: 0, redrawEdges: true },
  { name: 'scale down, rotate back, darker', shift: [0.04, 0.04], scale: 0.91, rotation: -3, hue: -10, exposure: -0.4, labelBlur: 1.2, redrawEdges: true },
  { name: 'warmer, blurred label', shift: [-0.02, -0.05], scale: 1.03, rotation: -1.2, hue: 15, exposure: 0.2, labelBlur: 2, redrawEdges: true },
  { name: 'near the limits', shift: [0.05, 0.05], scale: 0.9, rotation: 3, hue: -6, exposure: -0.3, labelBlur: 1, redrawEdges: true },
  { name: 'top missing', shift: [0.01, 0.01], scale: 1, rotation: 0.5, hue: 0, exposure: 0, labelBlur: 0, redrawEdges: true, silhouette: 'top-missing' },
  { name: 'stretched wide', shift: [-0.01, 0.02], scale: 1, rotation: 0, hue: 5, exposure: 0, labelBlur: 0, redrawEdges: true, silhouette: 'stretched' },
  { name: 'part added', shift: [0.02, 0], scale: 1.02, rotation: -1, hue: 0, exposure: 0.1, labelBlur: 0, redrawEdges: true, silhouette: 'part-added' },
];

/** A fixture packshot cut out with its ground-truth alpha, cropped to the product and sized to `long` pixels on its long side. */
export async function fixtureProduct(name: FixtureName, long: number): Promise<Rgba> {
  const spec = FIXTURES[name];
  const { rgb, alpha } = renderRaw(spec);
  const { width: w, height: h } = spec;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (alpha[y * w + x]! > 8) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  }
  const rgba = Buffer.alloc(w * h * 4);
  for (let p = 0; p < w * h; p++) {
    rgba[p * 4] = rgb[p * 3]!; rgba[p * 4 + 1] = rgb[p * 3 + 1]!; rgba[p * 4 + 2] = rgb[p * 3 + 2]!; rgba[p * 4 + 3] = alpha[p]!;
  }
  const cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  const s = long / Math.max(cw, ch);
  const { data, info } = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
    .extract({ left: x0, top: y0, width: cw, height: ch })
    .resize(Math.max(1, Math.round(cw * s)), Math.max(1, Math.round(ch * s)), { kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** The set the upstream paints: the wall's colour (the floor is always oak). */
export interface SetPaint {
  /** RGB 0..255 of the wall at its brightest */
  wall: [number, number, number];
}

/** A sage wall: a mid tone no fixture product shares. */
export const SAGE_SET: SetPaint = { wall: [196, 204, 186] };
/** A warm white wall, for a light product against a wall much like it. */
export const LIGHT_SET: SetPaint = { wall: [236, 233, 226] };

/** A painted set: a wall with a soft light falloff, a floor with grain, a soft shadow where the product stands. */
function paintScene(width: number, height: number, floorY: number, shadow: { cx: number; y: number; rx: number }, seed: number, set: SetPaint): Float32Array {
  const [wr, wg, wb] = set.wall;
  const rand = rng(seed);
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const n = (rand() - 0.5) * 4;
      let r: number, g: number, b: number;
      if (y < floorY) {
        const fall = 1 - 0.25 * Math.hypot((x - width * 0.3) / width, (y - height * 0.2) / height);
        r = wr * fall; g = wg * fall; b = wb * fall; // the wall
      } else {
        const t = (y - floorY) / Math.max(1, height - floorY);
        const grain = 6 * Math.sin(x * 0.05 + Math.sin(y * 0.02) * 3);
        r = 150 + 30 * t + grain; g = 112 + 22 * t + grain * 0.7; b = 80 + 14 * t + grain * 0.4; // oak table
      }
      const d = Math.hypot((x - shadow.cx) / shadow.rx, (y - shadow.y) / (shadow.rx * 0.12));
      const sh = 1 - 0.45 * Math.exp(-d * d);
      out[o] = (r + n) * sh; out[o + 1] = (g + n) * sh; out[o + 2] = (b + n) * sh;
    }
  }
  return out;
}

/** The product as the upstream redrew it: colour drift, label blur, outline and silhouette changes (still at its own size). */
async function redrawProduct(product: Rgba, d: Drift, seed: number): Promise<Rgba> {
  const { width: w, height: h } = product;
  let data = Buffer.from(product.data);
  if (d.labelBlur > 0) {
    const blurred = await sharp(data, { raw: { width: w, height: h, channels: 4 } }).blur(d.labelBlur).raw().toBuffer();
    const y0 = Math.round(h * 0.3), y1 = Math.round(h * 0.8);
    for (let y = y0; y < y1; y++) for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      if (data[o + 3]! === 255 && blurred[o + 3]! === 255) for (let c = 0; c < 3; c++) data[o + c] = blurred[o + c]!;
    }
  }
  // hue rotation about the grey axis, exposure as a gain in linear light
  const th = (d.hue * Math.PI) / 180, cos = Math.cos(th), sin = Math.sin(th);
  const k = 1 / 3, sq = Math.sqrt(1 / 3);
  const m = [
    cos + (1 - cos) * k, k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin,
    k * (1 - cos) + sq * sin, cos + k * (1 - cos), k * (1 - cos) - sq * sin,
    k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin, cos + k * (1 - cos),
  ];
  const gain = 2 ** d.exposure;
  const lin = (v: number) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const enc = (v: number) => { const c = clamp(v, 0, 1); return 255 * (c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055); };
  for (let p = 0; p < w * h; p++) {
    const o = p * 4;
    const r = data[o]!, g = data[o + 1]!, b = data[o + 2]!;
    const r2 = m[0]! * r + m[1]! * g + m[2]! * b, g2 = m[3]! * r + m[4]! * g + m[5]! * b, b2 = m[6]! * r + m[7]! * g + m[8]! * b;
    data[o] = Math.round(enc(lin(clamp(r2, 0, 255)) * gain));
    data[o + 1] = Math.round(enc(lin(clamp(g2, 0, 255)) * gain));
    data[o + 2] = Math.round(enc(lin(clamp(b2, 0, 255)) * gain));
  }
  let W = w;
  const H = h;
  if (d.silhouette === 'top-missing') {
    for (let y = 0; y < Math.round(h * 0.42); y++) for (let x = 0; x < w; x++) data[(y * w + x) * 4 + 3] = 0;
  } else if (d.silhouette === 'stretched') {
    W = Math.round(w * 1.35);
    data = await sharp(data, { raw: { width: w, height: h, channels: 4 } }).resize(W, H, { fit: 'fill' }).raw().toBuffer();
  } else if (d.silhouette === 'part-added') {
    // a block grown on the right side (13 % of the long side out, most of the height), in the
    // colour of the product's edge there; the raster grows alike on both sides so the product's
    // centre stays where it was
    const pad = Math.round(Math.max(w, h) * 0.13);
    W = w + 2 * pad;
    const wide = Buffer.alloc(W * H * 4);
    for (let y = 0; y < h; y++) data.copy(wide, (y * W + pad) * 4, y * w * 4, (y + 1) * w * 4);
    const y0 = Math.round(h * 0.15), y1 = Math.round(h * 0.85);
    for (let y = y0; y < y1; y++) {
      let edge = w - 1;
      while (edge > 0 && data[(y * w + edge) * 4 + 3]! < 255) edge--;
      const o0 = (y * w + Math.max(0, edge - 2)) * 4;
      for (let x = pad + edge - 2; x < pad + w + pad; x++) {
        const o = (y * W + x) * 4;
        for (let c = 0; c < 3; c++) wide[o + c] = data[o0 + c]!;
        wide[o + 3] = 255;
      }
    }
    data = wide;
  }
  if (d.redrawEdges) {
    // the outline drawn again: the matte softened and cut again at a threshold that wanders along it
    const soft = await sharp(data, { raw: { width: W, height: H, channels: 4 } }).extractChannel(3).blur(1.2).raw().toBuffer();
    const rand = rng(seed * 7 + 1);
    const ph1 = rand() * 6.28, ph2 = rand() * 6.28;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const a = soft[p]! / 255;
      if (a <= 0 || a >= 1) continue;
      const t = 0.5 + 0.12 * Math.sin(x * 0.07 + ph1) * Math.cos(y * 0.05 + ph2);
      data[p * 4 + 3] = Math.round(255 * clamp((a - t) * 2.5 + 0.5, 0, 1));
    }
  }
  return { data, width: W, height: H, channels: 4 };
}

/**
 * The upstream's frame: the set repainted and the product drifted by `d`. `box` is the product's
 * layout position (the frame is `frame` large); the transform the product was drawn with comes back
 * as `truth` (for a stretched silhouette, the similarity part of it). `set` picks the wall's colour.
 */
export async function driftFrame(product: Rgba, box: Rect, frame: { width: number; height: number }, d: Drift, seed = 1, set: SetPaint = SAGE_SET): Promise<{ generated: Rgb; truth: { dx: number; dy: number; scale: number; rotation: number }; silhouetteIoU: number }> {
  const { width: fw, height: fh } = frame;
  const truth = { dx: d.shift[0] * fw, dy: d.shift[1] * fh, scale: d.scale, rotation: d.rotation };
  const drawn = await redrawProduct(product, d, seed);
  const base = box.y + box.height * (0.5 + 0.5 * d.scale) + truth.dy;
  const scene = paintScene(fw, fh, Math.round(box.y + box.height * 0.75 + truth.dy), { cx: box.x + box.width / 2 + truth.dx, y: base, rx: box.width * 0.55 * d.scale }, seed, set);

  // the drawing's own transform: drawn pixels about their centre, which sits where the product's does
  const r = (d.rotation * Math.PI) / 180;
  const ca = Math.cos(r) * d.scale, sa = Math.sin(r) * d.scale;
  const cx = box.x + (box.width - 1) / 2 + truth.dx, cy = box.y + (box.height - 1) / 2 + truth.dy;
  const du = (drawn.width - 1) / 2, dv = (drawn.height - 1) / 2;
  const det = ca * ca + sa * sa;
  const out = Buffer.alloc(fw * fh * 3);
  const rand = rng(seed + 99);
  const ou = (product.width - 1) / 2, ov = (product.height - 1) / 2;
  let inter = 0, union = 0;
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      const X = x - cx, Y = y - cy;
      // inverse of [ca −sa; sa ca]
      const u = (ca * X + sa * Y) / det + du;
      const v = (-sa * X + ca * Y) / det + dv;
      const o = (y * fw + x) * 3;
      let pr = 0, pg = 0, pb = 0, pa = 0;
      if (u > -1 && v > -1 && u < drawn.width && v < drawn.height) {
        const u0 = Math.floor(u), v0 = Math.floor(v), fu = u - u0, fv = v - v0;
        for (const [xx, yy, wgt] of [[u0, v0, (1 - fu) * (1 - fv)], [u0 + 1, v0, fu * (1 - fv)], [u0, v0 + 1, (1 - fu) * fv], [u0 + 1, v0 + 1, fu * fv]] as const) {
          if (xx < 0 || yy < 0 || xx >= drawn.width || yy >= drawn.height || wgt === 0) continue;
          const q = (yy * drawn.width + xx) * 4;
          const a = (drawn.data[q + 3]! / 255) * wgt;
          pr += drawn.data[q]! * a; pg += drawn.data[q + 1]! * a; pb += drawn.data[q + 2]! * a; pa += a;
        }
      }
      // the silhouette's truth: the drawn product against the source product at the same transform
      const su = u - du + ou, sv = v - dv + ov;
      const si = Math.round(su), sj = Math.round(sv);
      const src = si >= 0 && sj >= 0 && si < product.width && sj < product.height && product.data[(sj * product.width + si) * 4 + 3]! >= 128;
      if (src && pa >= 0.5) inter++;
      if (src || pa >= 0.5) union++;
      const n = (rand() - 0.5) * 3;
      out[o] = Math.round(clamp(pr + scene[o]! * (1 - pa) + n, 0, 255));
      out[o + 1] = Math.round(clamp(pg + scene[o + 1]! * (1 - pa) + n, 0, 255));
      out[o + 2] = Math.round(clamp(pb + scene[o + 2]! * (1 - pa) + n, 0, 255));
    }
  }
  return { generated: { data: out, width: fw, height: fh, channels: 3 }, truth, silhouetteIoU: union > 0 ? inter / union : 0 };
}

/** The layout the upstream is sent: the product at `box` over a plain studio grey (what reshoot's generative recipe sends). */
export function layoutFrame(product: Rgba, box: Rect, frame: { width: number; height: number }): Rgb {
  const out = Buffer.alloc(frame.width * frame.height * 3, 214);
  for (let y = 0; y < product.height; y++) for (let x = 0; x < product.width; x++) {
    const fx = box.x + x, fy = box.y + y;
    if (fx < 0 || fy < 0 || fx >= frame.width || fy >= frame.height) continue;
    const q = (y * product.width + x) * 4, o = (fy * frame.width + fx) * 3, a = product.data[q + 3]! / 255;
    for (let c = 0; c < 3; c++) out[o + c] = Math.round(product.data[q + c]! * a + out[o + c]! * (1 - a));
  }
  return { data: out, width: frame.width, height: frame.height, channels: 3 };
}

/**
 * A fake model for upstreams that take a mask: the product is what the mask keeps (its alpha), taken
 * from the image it was sent, and comes back drifted by `d` in a repainted set, as a PNG of the
 * image's size.
 */
export async function repaintFromMask(imagePng: Buffer, maskPng: Buffer, d: Drift): Promise<Buffer> {
  const image = await sharp(imagePng).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const mask = await sharp(maskPng).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  const W = image.info.width, H = image.info.height;
  let x0 = W, y0 = H, x1 = -1, y1 = -1;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    if (mask.data[y * W + x]! > 0) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  }
  const w = x1 - x0 + 1, h = y1 - y0 + 1;
  const p = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y0 + y) * W + x0 + x, q = (y * w + x) * 4;
    p[q] = image.data[o * 3]!; p[q + 1] = image.data[o * 3 + 1]!; p[q + 2] = image.data[o * 3 + 2]!; p[q + 3] = mask.data[o]!;
  }
  const { generated } = await driftFrame({ data: p, width: w, height: h, channels: 4 }, { x: x0, y: y0, width: w, height: h }, { width: W, height: H }, d);
  return sharp(generated.data, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}
