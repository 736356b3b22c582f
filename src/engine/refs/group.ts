import { resize } from '../codec.js';
import type { Box, Rgba8 } from '../raster/types.js';

/**
 * Several products in one shot: one RGBA canvas holding them side by side, bottoms on one line, with
 * a gap between them, so the rest of the pipeline frames, lights and shadows the group as it would
 * one product. Sizes follow the products' pixel heights in their sources (the photographer's scale)
 * unless `sizes` gives their heights relative to each other.
 */

/** The products on one RGBA canvas, and where each one is on it. */
export interface Group extends Rgba8 { boxes: Box[] }

/** `items`: each product cropped to what it covers. */
export async function buildGroup(items: Rgba8[], sizes?: number[]): Promise<Group> {
  if (items.length === 1) {
    const only = items[0]!;
    return { ...only, boxes: [{ x: 0, y: 0, width: only.width, height: only.height }] };
  }
  const hmax = Math.max(...items.map((i) => i.height));
  const rel = sizes && sizes.length >= items.length
    ? sizes.slice(0, items.length).map((s) => s / Math.max(...sizes.slice(0, items.length)))
    : items.map((i) => i.height / hmax);
  const scaled = await Promise.all(items.map(async (it, k) => {
    const h = Math.max(1, Math.round(rel[k]! * hmax));
    const w = Math.max(1, Math.round((it.width * h) / it.height));
    return h === it.height ? it : resize(it, w, h);
  }));
  const height = Math.max(...scaled.map((s) => s.height));
  const meanW = scaled.reduce((a, s) => a + s.width, 0) / scaled.length;
  const gap = Math.round(meanW * 0.14);
  const width = scaled.reduce((a, s) => a + s.width, 0) + gap * (scaled.length - 1);
  const rgba = Buffer.alloc(width * height * 4);
  const boxes: Box[] = [];
  let x = 0;
  for (const s of scaled) {
    const y = height - s.height;
    for (let row = 0; row < s.height; row++) s.data.copy(rgba, ((y + row) * width + x) * 4, row * s.width * 4, (row + 1) * s.width * 4);
    boxes.push({ x, y, width: s.width, height: s.height });
    x += s.width + gap;
  }
  return { data: rgba, width, height, channels: 4, boxes };
}
