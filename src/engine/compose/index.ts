import { createRng } from '../raster/noise.js';
import { sharp, type RawImage } from '../sharp.js';
import type { Layout } from '../types.js';

export { computeLayout, groundAt, WORK_LONG_SIDE } from './framing.js';

/**
 * Final compositing at the output size: the scene (rendered at the working size) is resized up,
 * the product goes on at full resolution, effects in front of it are screened over, and a light
 * film grain ties product and set together. One libvips pipeline.
 */

const GRAIN_TILE = 256;

/** A mid-grey noise tile for an overlay blend: 128 leaves a pixel unchanged. */
export function grainTile(seed: number, amount: number): Buffer {
  const rng = createRng(seed, 61);
  const out = Buffer.alloc(GRAIN_TILE * GRAIN_TILE * 3);
  const amp = amount * 22;
  for (let p = 0; p < GRAIN_TILE * GRAIN_TILE; p++) {
    // roughly gaussian (sum of uniforms), monochrome with a faint chroma wobble like film
    const n = (rng() + rng() + rng() - 1.5) * amp;
    const c = (rng() - 0.5) * amp * 0.15;
    out[p * 3] = Math.round(128 + n + c);
    out[p * 3 + 1] = Math.round(128 + n);
    out[p * 3 + 2] = Math.round(128 + n - c);
  }
  return out;
}

export interface ComposeInput {
  layout: Layout;
  /** 8-bit RGB scene at the working size */
  scene: Buffer;
  /** RGBA product at the placement size */
  product: Buffer;
  /** RGBA effects in front of the product, at the working size */
  front: Buffer | null;
  grain: number;
  seed: number;
  /** false: the grain goes under the product so its pixels stay exactly the cut-out's */
  grainOverProduct: boolean;
}

export async function composeFrame(c: ComposeInput): Promise<RawImage> {
  const { layout: l } = c;
  const work = { raw: { width: l.work.width, height: l.work.height, channels: 3 as const } };
  let base: Buffer = c.scene;
  if (l.work.width !== l.width || l.work.height !== l.height) {
    base = await sharp(c.scene, work).resize(l.width, l.height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  }
  let front: Buffer | null = c.front;
  if (front && (l.work.width !== l.width || l.work.height !== l.height)) {
    front = await sharp(front, { raw: { width: l.work.width, height: l.work.height, channels: 4 } })
      .resize(l.width, l.height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  }
  const product = { input: c.product, raw: { width: l.product.width, height: l.product.height, channels: 4 as const }, left: l.product.x, top: l.product.y };
  const grain = c.grain > 0
    ? { input: grainTile(c.seed, c.grain), raw: { width: GRAIN_TILE, height: GRAIN_TILE, channels: 3 as const }, tile: true, blend: 'overlay' as const }
    : null;
  const layers = [] as Array<Record<string, unknown>>;
  if (grain && !c.grainOverProduct) layers.push(grain);
  layers.push(product);
  if (front) layers.push({ input: front, raw: { width: l.width, height: l.height, channels: 4 }, blend: 'screen' });
  if (grain && c.grainOverProduct) layers.push(grain);
  const { data, info } = await sharp(base, { raw: { width: l.width, height: l.height, channels: 3 } })
    .composite(layers as never)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** Only the framed product on transparency (input.background "transparent"). */
export async function composeTransparent(layout: Layout, product: Buffer): Promise<RawImage> {
  const { data, info } = await sharp({ create: { width: layout.width, height: layout.height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: product, raw: { width: layout.product.width, height: layout.product.height, channels: 4 }, left: layout.product.x, top: layout.product.y }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
}
