import { createRng } from '../raster/noise.js';
import { composite, resize, type Layer } from '../codec.js';
import { rgb8, type Rgb8, type Rgba8 } from '../raster/types.js';
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

/** Grain tiles by seed and amount, least recently used first (192 KB each; per thread). */
const grainTiles = new Map<string, Buffer>();
const GRAIN_TILES_KEPT = 32;

/** The grain tile for a seed and amount, built once and then shared: sharp only reads it. */
function cachedGrainTile(seed: number, amount: number): Buffer {
  const key = `${seed}:${amount}`;
  let tile = grainTiles.get(key);
  if (tile) grainTiles.delete(key);
  else tile = grainTile(seed, amount);
  grainTiles.set(key, tile);
  if (grainTiles.size > GRAIN_TILES_KEPT) grainTiles.delete(grainTiles.keys().next().value!);
  return tile;
}

export interface ComposeInput {
  layout: Layout;
  /** the scene at the working size */
  scene: Rgb8;
  /** the product at the placement size */
  product: Rgba8;
  /** effects in front of the product, at the working size */
  front: Rgba8 | null;
  grain: number;
  seed: number;
  /** false: the grain goes under the product so its pixels stay exactly the cut-out's */
  grainOverProduct: boolean;
}

export async function composeFrame(c: ComposeInput): Promise<Rgb8> {
  const { layout: l } = c;
  const resized = l.work.width !== l.width || l.work.height !== l.height;
  // the two resizes side by side in libvips
  const [base, front] = await Promise.all([
    resized ? resize(c.scene, l.width, l.height) : c.scene,
    c.front && resized ? resize(c.front, l.width, l.height, { kernel: 'cubic' }) : c.front,
  ]);
  const product: Layer = { image: c.product, left: l.product.x, top: l.product.y };
  const grain: Layer | null = c.grain > 0 ? { image: rgb8(cachedGrainTile(c.seed, c.grain), GRAIN_TILE, GRAIN_TILE), tile: true, blend: 'overlay' } : null;
  const layers: Layer[] = [];
  if (grain && !c.grainOverProduct) layers.push(grain);
  layers.push(product);
  if (front) layers.push({ image: front, blend: 'screen' });
  if (grain && c.grainOverProduct) layers.push(grain);
  return composite(base, layers);
}

/** Only the framed product on transparency (input.background "transparent"). */
export async function composeTransparent(layout: Layout, product: Rgba8): Promise<Rgba8> {
  return composite({ width: layout.width, height: layout.height }, [{ image: product, left: layout.product.x, top: layout.product.y }]);
}
