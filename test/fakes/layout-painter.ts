import sharp from 'sharp';
import { repaintFromMask, type Drift } from './drift.js';

/**
 * A fake hiapi model for reshoot's generative tests: hiapi's model gets no mask, so like a model that
 * sees the product on the flat layout it takes as product whatever is not the layout's grey, and
 * repaints around it with the product drifted (drift.ts).
 */

/** The layout's flat backdrop (engine/compose/recipes.ts LAYOUT_GREY). */
const GREY = 214;

export async function repaintLayout(png: Buffer, d: Drift): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const mask = Buffer.alloc(n * 4);
  for (let p = 0; p < n; p++) {
    const diff = Math.max(Math.abs(data[p * 3]! - GREY), Math.abs(data[p * 3 + 1]! - GREY), Math.abs(data[p * 3 + 2]! - GREY));
    mask[p * 4 + 3] = Math.min(255, diff * 32);
  }
  return repaintFromMask(png, await sharp(mask, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer(), d);
}

/** The fake hiapi's painter: the layout reshoot sent in `input_urls[0]` (a data: URI), repainted with `drift`. */
export function paintLayoutUri(drift: (prompt: string) => Drift) {
  return async ({ input }: { input: Record<string, unknown> }): Promise<Buffer> => {
    const m = /^data:image\/png;base64,(.+)$/s.exec((input.input_urls as string[])[0]!);
    if (!m) throw new Error('expected the layout as a data: URI');
    return repaintLayout(Buffer.from(m[1]!, 'base64'), drift(String(input.prompt)));
  };
}
