import { outputSize, type AspectRatio, type Resolution } from '../../contract/models.js';
import type { ScenePlan } from '../../contract/scene.js';
import type { Box } from '../raster/types.js';
import type { Layout } from '../types.js';

/**
 * Framing: the output size for the ratio and resolution (DESIGN.md "Output sizes"), where the
 * product lands and how large, and the camera that goes with it (horizon, focal length,
 * foreshortening). All positions are in output pixels; the scene is rendered at a working scale.
 */

/**
 * The set is rendered at three quarters of the output size, at most this long, and resized up:
 * it is mostly defocused, the product goes on at full size, and the film grain is added at full
 * size, so the saving (about half the per-pixel work) costs no visible detail.
 */
export const WORK_LONG_SIDE = 1440;
const WORK_SHARE = 0.75;

/**
 * How finely the set is rendered. `fast` (the free model) as above; `full` (Pro) at twice that scale
 * in each direction: one and a half times the output size (resized down, so supersampled) up to a
 * long side of 2880, with the environment's lens blur at full size.
 */
export type RenderQuality = 'fast' | 'full';
export const SCENE_SCALE: Record<RenderQuality, { share: number; longSide: number }> = {
  fast: { share: WORK_SHARE, longSide: WORK_LONG_SIDE },
  full: { share: WORK_SHARE * 2, longSide: WORK_LONG_SIDE * 2 },
};

const POSITION_X: Record<ScenePlan['framing']['position'], number> = {
  center: 0.5, left: 0.38, right: 0.62, 'left-third': 1 / 3, 'right-third': 2 / 3,
};

/**
 * How much of the frame the product may take: `size` is its height as a share of the frame height,
 * a little more in a landscape frame (the width gives the scene room, so the product can stand
 * taller and stay the subject); a wide product is held to about the same share of the width, so a
 * squat dripper leaves as much negative space beside it as a bottle does above it.
 */
export function frameShares(size: number, width: number, height: number): { heightShare: number; widthShare: number } {
  const wide = Math.min(1, Math.max(0, (width / height - 1) / 0.78));
  return { heightShare: Math.min(0.9, size * (1 + 0.2 * wide)), widthShare: Math.min(0.86, size + 0.04) };
}

/** Lays out the frame for a product whose opaque box in the source is `box`. */
export function computeLayout(
  plan: Pick<ScenePlan, 'framing'>,
  aspectRatio: AspectRatio,
  resolution: Resolution,
  source: { width: number; height: number },
  box: Box,
  quality: RenderQuality = 'fast',
): Layout {
  const { width, height } = outputSize(aspectRatio, resolution, source);
  const f = plan.framing;
  const topDown = f.camera === 'top-down';
  const { heightShare, widthShare } = frameShares(f.size, width, height);
  const scale = Math.min((heightShare * height) / box.height, (widthShare * width) / box.width);
  const pw = Math.max(1, Math.round(box.width * scale));
  const ph = Math.max(1, Math.round(box.height * scale));
  let cx = width * POSITION_X[f.position];
  cx = Math.min(width - pw / 2 - width * 0.04, Math.max(pw / 2 + width * 0.04, cx));
  let baseY: number;
  if (topDown) baseY = height * 0.5 + ph / 2;
  else baseY = Math.min(height * 0.93, height * 0.47 + ph / 2 + height * 0.07);
  const x = Math.round(cx - pw / 2);
  const y = Math.round(baseY - ph);
  baseY = y + ph;

  // Camera: the surface's far edge sits at `horizon`; the vanishing line above it sets how strongly
  // the surface is foreshortened (a low camera looks along the table, a high one down onto it).
  let edgeY = Math.min(f.horizon * height, y + ph * 0.55);
  if (edgeY >= baseY - 4) edgeY = baseY - Math.max(8, ph * 0.3);
  // an overhead still (high camera, no horizon) looks steeply down: the surface is barely foreshortened
  const lift = f.camera === 'low' ? 0.05 : f.camera === 'high' ? (f.horizon <= 0.05 ? 0.8 : 0.45) : 0.16;
  const vanishY = edgeY - lift * height;
  const focal = 1.7 * Math.max(width, height);
  const baseDepth = focal / ph;

  const { share, longSide } = SCENE_SCALE[quality];
  const ws = Math.min(share, longSide / Math.max(width, height));
  return {
    width,
    height,
    work: { width: Math.max(16, Math.round(width * ws)), height: Math.max(16, Math.round(height * ws)), scale: ws },
    product: { x, y, width: pw, height: ph },
    scale,
    upscale: Math.max(1, scale),
    baseY,
    centerX: x + pw / 2,
    camera: { topDown, vanishY, edgeY, focal, baseDepth },
  };
}

/**
 * The surface's geometry at a row: depth relative to the product's base (1 at the base, growing
 * toward the edge) and world units (product heights) per output pixel.
 */
export function groundAt(l: Layout, y: number): { depth: number; unitsPerPx: number } {
  const c = l.camera;
  if (c.topDown) return { depth: 1, unitsPerPx: 1 / l.product.height };
  const ratio = (l.baseY - c.vanishY) / Math.max(1e-3, y - c.vanishY);
  return { depth: ratio, unitsPerPx: (ratio * c.baseDepth) / c.focal };
}
