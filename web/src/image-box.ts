/** A rectangle in an image's pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the engine put the product, from the task's `reshoot.placement` (output pixels). */
export interface Placement extends Box {
  /** output pixels per source pixel */
  scale: number;
  /** > 1 when the source product was enlarged */
  upscale: number;
}

export function readPlacement(v: unknown): Placement | null {
  const p = v as Partial<Placement> | null | undefined;
  if (!p || typeof p !== 'object') return null;
  const nums = [p.x, p.y, p.width, p.height, p.scale];
  if (!nums.every((n) => typeof n === 'number' && Number.isFinite(n)) || !(p.width! > 0) || !(p.height! > 0) || !(p.scale! > 0)) return null;
  return { x: p.x!, y: p.y!, width: p.width!, height: p.height!, scale: p.scale!, upscale: typeof p.upscale === 'number' ? p.upscale : 1 };
}

/**
 * The product's box in a packshot: the pixels that are not transparent when the image has
 * transparency, else those that differ from the border's colour (the median of the outermost ring).
 * A rough measure for lining up the before image and for the size warning; the server's cutout
 * decides what is actually placed. Null for an image that is all background.
 */
export function productBox(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, tolerance = 24): Box | null {
  const at = (x: number, y: number) => (y * width + x) * 4;
  let transparent = false;
  const ring: number[][] = [[], [], []];
  for (let x = 0; x < width; x++) {
    for (const y of [0, height - 1]) {
      const i = at(x, y);
      if (rgba[i + 3]! < 250) transparent = true;
      for (let c = 0; c < 3; c++) ring[c]!.push(rgba[i + c]!);
    }
  }
  for (let y = 0; y < height; y++) {
    for (const x of [0, width - 1]) {
      const i = at(x, y);
      if (rgba[i + 3]! < 250) transparent = true;
      for (let c = 0; c < 3; c++) ring[c]!.push(rgba[i + c]!);
    }
  }
  const median = ring.map((vals) => vals.sort((a, b) => a - b)[vals.length >> 1]!);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = at(x, y);
      const product = transparent
        ? rgba[i + 3]! >= 128
        : Math.max(Math.abs(rgba[i]! - median[0]!), Math.abs(rgba[i + 1]! - median[1]!), Math.abs(rgba[i + 2]! - median[2]!)) > tolerance;
      if (!product) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * Where to draw the whole source image, in output pixels, so that its product lands on the box the
 * engine placed it in: scaled by the placement's own scale, centred on the placement's centre. Without
 * a measured box the whole source is fitted into the placement box.
 */
export function sourceRect(source: { width: number; height: number; box: Box | null }, placement: Placement): Box {
  const cx = placement.x + placement.width / 2;
  const cy = placement.y + placement.height / 2;
  if (!source.box) {
    const s = Math.min(placement.width / source.width, placement.height / source.height);
    return { x: cx - (source.width * s) / 2, y: cy - (source.height * s) / 2, width: source.width * s, height: source.height * s };
  }
  const s = placement.scale;
  const bx = source.box.x + source.box.width / 2;
  const by = source.box.y + source.box.height / 2;
  return { x: cx - bx * s, y: cy - by * s, width: source.width * s, height: source.height * s };
}

/**
 * About how much the product must be enlarged for an output: the plan's framing makes it `size` of
 * the frame's height (held to 90 % of the width for a wide product), and the source has `box` of it.
 */
export function estimateUpscale(box: Box, framingSize: number, output: { width: number; height: number }): number {
  let target = framingSize * output.height;
  if ((box.width / box.height) * target > output.width * 0.9) target = (output.width * 0.9 * box.height) / box.width;
  return target / box.height;
}

/** Enlarging a product more than this shows as softness; the studio warns before rendering. */
export { UPSCALE_WARNING } from '../../src/contract/models.js';

export interface Measured {
  width: number;
  height: number;
  box: Box | null;
}

const MEASURE_SIDE = 256;
const measured = new Map<string, Promise<Measured | null>>();

/**
 * Measures an image the page can read (a blob: preview or a same-origin URL): its size and the
 * product's box, found on a copy of at most 256 px. Null when it cannot be read (another site's
 * image without CORS, or not an image). Cached per URL.
 */
export function measureImage(url: string): Promise<Measured | null> {
  let m = measured.get(url);
  if (!m) {
    m = (async () => {
      try {
        const res = await fetch(url);
        if (!res.ok) return null;
        const bitmap = await createImageBitmap(await res.blob());
        const k = Math.min(1, MEASURE_SIDE / Math.max(bitmap.width, bitmap.height));
        const w = Math.max(1, Math.round(bitmap.width * k));
        const h = Math.max(1, Math.round(bitmap.height * k));
        const canvas = new OffscreenCanvas(w, h);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(bitmap, 0, 0, w, h);
        const size = { width: bitmap.width, height: bitmap.height };
        bitmap.close();
        const small = productBox(ctx.getImageData(0, 0, w, h).data, w, h);
        const box = small && { x: small.x / k, y: small.y / k, width: small.width / k, height: small.height / k };
        return { ...size, box };
      } catch {
        return null;
      }
    })();
    measured.set(url, m);
  }
  return m;
}
