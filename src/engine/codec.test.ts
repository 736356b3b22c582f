import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { solidImage } from '../../test/fixtures/solid.js';
import { checkImage, decodeImage, MIN_IMAGE_SIDE, probeImage, opaqueResizer, resize } from './codec.js';

const LIMIT = 50_000_000;

describe('reference checks', () => {
  it('never puts this server\'s file names in a decode error', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-decode-'));
    try {
      // A cut-off AVIF: its header reads, its pixels do not, and libvips names the file in every line.
      const avif = await solidImage('avif', 300, 300, '#3a6');
      const file = path.join(dir, 'sources', '9eae0000000000000000000000000000');
      await fs.mkdir(path.dirname(file));
      await fs.writeFile(file, avif.subarray(0, Math.floor(avif.length * 0.9)));
      const err = (await decodeImage(file, { maxPixels: LIMIT }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/^image could not be decoded \(.+\)$/);
      expect(err.message).not.toContain(dir);
      expect(err.message).not.toContain('9eae');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses images too small to be a product photo, by their short side', async () => {
    const make = (width: number, height: number) => solidImage('png', width, height, '#777');
    await expect(checkImage(await make(1, 1), LIMIT)).rejects.toThrow('1x1: too small');
    await expect(checkImage(await make(20000, 20), LIMIT)).rejects.toThrow('20000x20: too small');
    await expect(checkImage(await make(MIN_IMAGE_SIDE, 4000), LIMIT)).resolves.toMatchObject({ width: MIN_IMAGE_SIDE, height: 4000 });
  });

  it('finds a truncated file that its header alone would pass', async () => {
    const jpeg = await solidImage('jpeg', 640, 480, '#a53');
    const cut = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
    expect((await probeImage(cut)).width).toBe(640);
    await expect(checkImage(cut, LIMIT)).rejects.toThrow(/could not be decoded/);
    await expect(checkImage(jpeg, LIMIT)).resolves.toEqual({ format: 'jpeg', width: 640, height: 480 });
  });
});

describe('decodeImage with a working size', () => {
  it('decodes a larger image straight to the working pixel count, ratio and orientation kept', async () => {
    const jpeg = await solidImage('jpeg', 4000, 3000, '#a53', { orientation: 6 });
    const { image } = await decodeImage(jpeg, { maxPixels: LIMIT, workingPixels: 3_000_000 });
    // orientation 6 turns it upright: 3000 wide, 4000 tall, at 1/2 of each side
    expect(image.width * image.height).toBeLessThanOrEqual(3_000_000);
    expect(Math.abs(image.width / image.height - 3 / 4)).toBeLessThan(0.01);
    expect(image.height).toBeGreaterThan(1990);
    const small = await decodeImage(jpeg, { maxPixels: LIMIT, workingPixels: 24_000_000 });
    expect([small.image.width, small.image.height]).toEqual([3000, 4000]);
  });
});

describe('opaqueResizer', () => {
  it('resamples an opaque image to the same bytes as the premultiplied resize, and ignores alpha', async () => {
    const width = 1203, height = 877;
    const data = Buffer.alloc(width * height * 4);
    let seed = 5;
    for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const img = { data, width, height, channels: 4 as const };
    const resizeOpaque = opaqueResizer(img);
    for (const [w, h] of [[384, 384], [1024, 1024], [500, 300]] as const) {
      const want = await resize(img, w, h);
      const got = await resizeOpaque(w, h);
      expect([got.width, got.height, got.channels]).toEqual([w, h, 4]);
      expect(got.data.equals(want.data), `${w}x${h}`).toBe(true);
    }
    // the alpha plays no part: a transparent copy of the same colours gives the same pixels
    const clear = Buffer.from(data);
    for (let i = 3; i < clear.length; i += 4) clear[i] = 0;
    const fromClear = await opaqueResizer({ ...img, data: clear })(384, 384);
    expect(fromClear.data.equals((await resize(img, 384, 384)).data)).toBe(true);
  });
});
