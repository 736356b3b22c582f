import { describe, expect, it } from 'vitest';
import { renderRaw, type Product } from '../../../test/fixtures/index.js';
import type { Raster8 } from '../raster/types.js';
import { matteFromModel, matteFromModelOffloaded, type ChecksInput, type ChecksResult } from './matte.js';
import { checksInThread } from './offload.js';

/**
 * The see-through and clear-glass checks on a thread of their own give the cutout the same bytes as the
 * checks run inline, on products where each check finds something (a clear wine glass, a tinted glass)
 * and on one where neither does; and a thread that cannot answer leaves the same result too.
 */

function packshot(product: Product): { image: Raster8; model: Float32Array } {
  const w = 400, h = 400;
  const { rgb, alpha } = renderRaw({ product, background: 'sweep', width: w, height: h });
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) { data[i * 4] = rgb[i * 3]!; data[i * 4 + 1] = rgb[i * 3 + 1]!; data[i * 4 + 2] = rgb[i * 3 + 2]!; data[i * 4 + 3] = 255; }
  // the model as IS-Net answers a packshot: product, all of it (glass included)
  const model = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) model[i] = alpha[i]! > 0 ? 1 : 0;
  return { image: { data, width: w, height: h, channels: 4 }, model };
}

describe('the checks on their own thread', () => {
  it.each([
    ['wine-glass', 'glass'],
    ['glass', 'through'],
    ['mug', 'neither'],
  ] as const)('%s: the same alpha and foreground as inline (the thread found %s)', async (product, found) => {
    const { image, model } = packshot(product);
    const inline = matteFromModel({ image, small: image, model, lap: () => {} });
    const answers: ChecksResult[] = [];
    const offload = (c: ChecksInput) => checksInThread(c).then((r) => { answers.push(r); return r; });
    const threaded = await matteFromModelOffloaded({ image, small: image, model, lap: () => {} }, offload);
    expect(answers).toHaveLength(1);
    expect({ through: answers[0]!.through !== null, glass: answers[0]!.glass !== null }).toEqual({ through: found === 'through', glass: found === 'glass' });
    expect(threaded.alpha.equals(inline.alpha)).toBe(true);
    expect(threaded.foreground.data.equals(inline.foreground.data)).toBe(true);
    expect(threaded.guard).toEqual(inline.guard);
  });

  it('runs the checks inline when the thread cannot answer', async () => {
    const { image, model } = packshot('wine-glass');
    const inline = matteFromModel({ image, small: image, model, lap: () => {} });
    const fallback = await matteFromModelOffloaded({ image, small: image, model, lap: () => {} }, () => Promise.reject(new Error('the checks thread is not running')));
    expect(fallback.alpha.equals(inline.alpha)).toBe(true);
    expect(fallback.foreground.data.equals(inline.foreground.data)).toBe(true);
  });
});
