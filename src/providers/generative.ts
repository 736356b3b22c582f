import { coverRgb, decodeImage, encodeImage } from '../engine/codec.js';
import { LockError, lockProduct, type LockMode, type LockReport } from '../engine/lock/index.js';
import { rgba8, type Box, type Rgb8, type Rgba8 } from '../engine/raster/types.js';
import { PermanentTaskError } from '../errors.js';
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

/** The mask sent with the layout: opaque where the product is (keep), transparent elsewhere (paint). */
async function productMask(layout: Rgb8, product: Rgba8, box: Box): Promise<Buffer> {
  const m = Buffer.alloc(layout.width * layout.height * 4);
  for (let y = 0; y < product.height; y++) {
    const fy = box.y + y;
    if (fy < 0 || fy >= layout.height) continue;
    for (let x = 0; x < product.width; x++) {
      const fx = box.x + x;
      if (fx >= 0 && fx < layout.width) m[(fy * layout.width + fx) * 4 + 3] = product.data[(y * product.width + x) * 4 + 3]!;
    }
  }
  return encodeImage(rgba8(m, layout.width, layout.height), 'png');
}

export async function paintLocked(upstream: Upstream, req: LockedPaintRequest): Promise<LockedPaint> {
  const { layout, product, box, lock, maxPixels, ...paint } = req;
  const [png, mask] = await Promise.all([encodeImage(layout, 'png'), productMask(layout, product, box)]);
  const painted = await upstream.paint({ ...paint, layout: png, mask });
  let decoded;
  try {
    decoded = await decodeImage(painted.image, { maxPixels });
  } catch (err) {
    throw new PermanentTaskError(`the ${upstream.name} upstream's image could not be read: ${err instanceof Error ? err.message : String(err)}`, 'TASK_FAILED', { cause: err });
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
