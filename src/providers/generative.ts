import { coverRgb, decodeImage, encodeImage } from '../engine/codec.js';
import { LockError, lockProduct, type LockMode, type LockReport } from '../engine/lock/index.js';
import type { Box, Rgb8, Rgba8 } from '../engine/raster/types.js';
import { PermanentTaskError } from '../errors.js';
import type { HiapiUpstream, PaintRequest } from './hiapi/index.js';

/**
 * A generative frame with the product locked: the layout (the cut-out product framed for the
 * requested ratio and resolution) goes to an upstream, the painted frame comes back, is brought to
 * the layout's size (cover-fitted, so an upstream that answers another size or ratio still lines
 * up), and the product lock puts the photographed product back (engine/lock). A strict lock that
 * refuses the upstream's frame fails the task with the lock's reason.
 */

export interface LockedPaintRequest extends Omit<PaintRequest, 'layout'> {
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

export async function paintLocked(upstream: HiapiUpstream, req: LockedPaintRequest): Promise<LockedPaint> {
  const { layout, product, box, lock, maxPixels, ...paint } = req;
  const png = await encodeImage(layout, 'png');
  const painted = await upstream.paint({ ...paint, layout: png });
  let decoded;
  try {
    decoded = await decodeImage(painted.image, { maxPixels });
  } catch (err) {
    throw new PermanentTaskError(`the upstream's image could not be read: ${err instanceof Error ? err.message : String(err)}`, 'TASK_FAILED', { cause: err });
  }
  const generated = await coverRgb(decoded.image, layout.width, layout.height);
  try {
    const { frame, report } = lockProduct({ generated, product, box, mode: lock });
    return { frame, lock: report, upstream: { taskId: painted.upstreamTaskId, createAttempts: painted.createAttempts, replayed: painted.replayed } };
  } catch (err) {
    if (err instanceof LockError) throw new PermanentTaskError(err.message, 'TASK_FAILED', { cause: err });
    throw err;
  }
}
