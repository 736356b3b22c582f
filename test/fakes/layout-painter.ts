import sharp from 'sharp';
import { startFakeHiapi, type FakeHiapi } from '../sdk/fake-hiapi.js';
import { DRIFTS, repaintFromMask, type Drift } from './drift.js';

/**
 * A fake hiapi upstream that paints like an image model for the CLI and studio tests of the generative
 * route: it takes the layout reshoot sent, repaints the scene around the product and drifts the
 * product (test/fakes/drift.ts). A prompt that contains CHANGED gets a silhouette change that a strict
 * lock refuses; any other prompt an accepted drift (shifted, scaled 1.08, rotated 2.5°, hue shifted).
 */

/** The layout's flat backdrop (engine/compose/recipes.ts LAYOUT_GREY). */
const GREY = 214;

export const driftFor = (prompt: string): Drift => (prompt.includes('CHANGED') ? DRIFTS.find((d) => d.silhouette === 'stretched')! : DRIFTS[1]!);

/**
 * hiapi's model gets no mask: like a model that sees the product on the flat layout, take as product
 * whatever is not the layout's grey and repaint around it with the product drifted.
 */
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

/** The fake hiapi on loopback, painting each task from the layout in its input_urls[0]. */
export function startPaintingHiapi(): Promise<FakeHiapi> {
  return startFakeHiapi({ paint: paintLayoutUri() });
}

/** A fake hiapi's painter: the layout reshoot sent in `input_urls[0]` (a data: URI), repainted with the drift `drift` picks for the prompt. */
export function paintLayoutUri(drift: (prompt: string) => Drift = driftFor) {
  return async ({ input }: { input: Record<string, unknown> }): Promise<Buffer> => {
    const m = /^data:image\/png;base64,(.+)$/s.exec((input.input_urls as string[])[0]!);
    if (!m) throw new Error('expected the layout as a data: URI');
    return repaintLayout(Buffer.from(m[1]!, 'base64'), drift(String(input.prompt)));
  };
}
