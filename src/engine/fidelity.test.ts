import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPackshot } from '../../test/fixtures/index.js';
import { decodeImage } from './codec.js';
import { compareProduct, deltaE2000, deltaE2000HueChroma, fidelityFigures } from './fidelity.js';
import { transform, type CutoutFn } from './pipeline.js';
import { rgba8 } from './raster/types.js';

/** A w×h product of one colour, opaque inside a margin. */
function patch(w: number, h: number, rgb: [number, number, number]): ReturnType<typeof rgba8> {
  const out = Buffer.alloc(w * h * 4);
  for (let y = 4; y < h - 4; y++) for (let x = 4; x < w - 4; x++) out.set([...rgb, 255], (y * w + x) * 4);
  return rgba8(out, w, h);
}

describe('product colour kept and relight, apart', () => {
  it('separates hue and chroma from lightness', () => {
    // the same colour darker: a lightness change only for a neutral, all hue for a rotated one
    expect(deltaE2000HueChroma(60, 0, 0, 40, 0, 0)).toBeCloseTo(0, 6);
    expect(deltaE2000(60, 0, 0, 40, 0, 0)).toBeGreaterThan(10);
    expect(deltaE2000HueChroma(50, 40, 10, 50, 10, 40)).toBeGreaterThan(10);
    expect(deltaE2000HueChroma(50, 40, 10, 50, 40, 10)).toBe(0);
  });

  it('reports a darker grey as relight, not as a colour change, and a hue change as one', async () => {
    const src = patch(64, 64, [180, 180, 180]);
    const [darker, rotated] = await compareProduct(src, patch(64, 64, [110, 110, 110]), patch(64, 64, [180, 150, 200]));
    expect(darker!.deltaE.mean).toBeGreaterThan(10);
    expect(darker!.hueChroma.mean).toBeLessThan(0.5);
    expect(darker!.lightness).toBeLessThan(-15);
    expect(rotated!.hueChroma.mean).toBeGreaterThan(5);
    const f = await fidelityFigures(src, patch(64, 64, [110, 110, 110]), src);
    expect(f.colourKept.mean).toBe(0);
    expect(f.relight.applied).toBe(true);
    expect(f.relight.deltaE.mean).toBeGreaterThan(10);
    expect(f.relight.lightness).toBeLessThan(-15);
  });

  it('on the default slate render: the colour kept within a just-noticeable difference, the light’s change reported as relight', async () => {
    const shot = await renderPackshot({ product: 'cup', background: 'light-grey', width: 300, height: 300, seed: 3 });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'reshoot-fid-')), 'cup.png');
    writeFileSync(file, shot.png);
    const decoded = await decodeImage(shot.png, { maxPixels: 1e7 });
    const fg = Buffer.from(decoded.image.data);
    for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
    const cutout: CutoutFn = async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: shot.width, height: shot.height, channels: 4 }, cached: true });
    const r = await transform({
      tier: 'standard', prompt: 'Place this exact white ceramic pour-over dripper on a dark slate stone surface with dramatic side lighting, moody editorial product photography',
      sources: [file], aspectRatio: '1:1', resolution: '1K', seed: 7, outputFormat: 'png',
    }, { opts: { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 }, cutout });
    const f = r.report.fidelity;
    expect(f.colourKept!.mean).toBeLessThan(1);
    expect(f.relight!.applied).toBe(true);
    expect(f.relight!.deltaE.mean).toBeGreaterThan(2);
    expect(f.deltaE.mean).toBeGreaterThan(f.colourKept!.mean);
  }, 30_000);
});
