import { encodeImage } from '../engine/codec.js';
import { layoutImages, lockPainted } from '../engine/compose/recipes.js';
import type { LockMode, LockReport } from '../engine/lock/index.js';
import type { Box, Rgb8, Rgba8 } from '../engine/raster/types.js';
import type { PaintRequest, Upstream } from './hiapi/index.js';

/**
 * A generative frame with the product locked: the layout (the cut-out product framed for the
 * requested ratio and resolution) goes to an upstream, the painted frame comes back, is brought to
 * the layout's size (cover-fitted, so an upstream that answers another size or ratio still lines
 * up), and the product lock puts the photographed product back (engine/lock). A strict lock that
 * refuses the upstream's frame fails the task with the lock's reason.
 */

export interface LockedPaintRequest extends Omit<PaintRequest, 'layout' | 'mask'> {
  /** the layout frame (RGB, the output size) */
  layout: Rgb8;
  /** the product at its layout size and position */
  product: Rgba8;
  box: Box;
  lock: LockMode;
  /** largest image accepted back from the upstream, pixels */
  maxPixels: number;
}

export interface LockedPaint {
  frame: Rgb8;
  lock: LockReport;
  upstream: { taskId: string; createAttempts: number; replayed: boolean };
}

export async function paintLocked(upstream: Upstream, req: LockedPaintRequest): Promise<LockedPaint> {
  const { layout, product, box, lock, maxPixels, ...paint } = req;
  const [png, mask] = await Promise.all([encodeImage(layout, 'png'), encodeImage(layoutImages(layout.width, layout.height, product, box).mask, 'png')]);
  const painted = await upstream.paint({ ...paint, layout: png, mask });
  const { frame, report } = await lockPainted(painted.image, layout, product, box, lock, maxPixels, upstream.name);
  return { frame, lock: report, upstream: { taskId: painted.upstreamTaskId, createAttempts: painted.createAttempts, replayed: painted.replayed } };
}
