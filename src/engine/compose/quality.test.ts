import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../../../test/fixtures/index.js';
import { decodeImage } from '../codec.js';
import { transform, type CutoutFn } from '../pipeline.js';
import type { TransformRequest } from '../types.js';
import { computeLayout } from './framing.js';

describe('the Pro model renders better, not only dearer', () => {
  let file = '';
  let cutout: CutoutFn;
  beforeAll(async () => {
    const shot = await renderPackshot({ product: 'bottle', background: 'light-grey', width: 300, height: 400, seed: 3 });
    file = path.join(mkdtempSync(path.join(tmpdir(), 'reshoot-pro-')), 'bottle.png');
    writeFileSync(file, shot.png);
    const decoded = await decodeImage(shot.png, { maxPixels: 1e7 });
    const fg = Buffer.from(decoded.image.data);
    for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
    cutout = async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: shot.width, height: shot.height, channels: 4 }, cached: true });
  });
  const run = (over: Partial<TransformRequest>) => transform({
    tier: 'standard', prompt: 'on a wooden cafe counter with a blurred warm cafe interior behind it', sources: [file],
    aspectRatio: '4:3', resolution: '1K', seed: 7, outputFormat: 'png', ...over,
  }, { opts: { cacheDir: '', maskCacheBytes: 0, maxInputPixels: 50e6 }, cutout });

  it('supersamples the set at twice the free scale with a full-size HDR lens blur, and says so', async () => {
    const free = await run({});
    const pro = await run({ tier: 'pro' });
    expect(Buffer.from(pro.data).equals(Buffer.from(free.data))).toBe(false);
    expect([pro.width, pro.height]).toEqual([free.width, free.height]);
    expect(free.report.render).toMatchObject({ quality: 'standard', sceneScale: 0.75, supersampled: false, lensBlur: 'reduced-size HDR disc, upsampled', environment: { photo: 'esplanade' } });
    expect(pro.report.render).toMatchObject({ quality: 'pro', sceneScale: 1.5, supersampled: true, sceneVsFree: 2, lensBlur: 'full-size HDR disc', environment: { photo: 'esplanade' } });
    expect(pro.report.render!.description).toContain('supersampled');
    // the same scene and light: the product is placed identically, and Pro is deterministic too
    expect(pro.report.placement).toEqual(free.report.placement);
    const again = await run({ tier: 'pro' });
    expect(Buffer.from(again.data).equals(Buffer.from(pro.data))).toBe(true);
  }, 60_000);

  it('keeps the set at most twice the free model’s long side at 4K', () => {
    const plan = { framing: { size: 0.5, position: 'center' as const, camera: 'eye' as const, horizon: 0.5 } };
    const box = { x: 0, y: 0, width: 100, height: 200 };
    const free = computeLayout(plan, '16:9', '4K', { width: 400, height: 400 }, box);
    const pro = computeLayout(plan, '16:9', '4K', { width: 400, height: 400 }, box, 'full');
    expect(Math.max(free.work.width, free.work.height)).toBe(1440);
    expect(Math.max(pro.work.width, pro.work.height)).toBe(2880);
    expect(pro.product).toEqual(free.product);
  });
});
