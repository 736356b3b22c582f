import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mask8, rgba8 } from '../raster/types.js';
import { createMaskCache, decodeAlpha, decodeForeground, encodeMatte, matteBox, type EncodedMatte } from './cache.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'reshoot-masks-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

/** A product-like matte: an opaque disc with a soft rim on random source pixels, edge colours changed. */
function product(seed: number, w = 64, h = 48): { source: Buffer; alpha: Buffer; foreground: Buffer } {
  let s = seed;
  const rnd = () => { s = (s * 1103515245 + 12345) >>> 0; return s >>> 24; };
  const source = Buffer.alloc(w * h * 4);
  for (let i = 0; i < source.length; i++) source[i] = i % 4 === 3 ? 255 : rnd();
  const alpha = Buffer.alloc(w * h);
  const foreground = Buffer.from(source);
  const cx = w * 0.55, cy = h * 0.45, r = Math.min(w, h) * 0.3;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const a = Math.round(Math.min(1, Math.max(0, r - Math.hypot(x - cx, y - cy) + 0.5)) * 255);
      alpha[i] = a;
      foreground[i * 4 + 3] = a;
      // decontaminated edge colours differ from the source's
      if (a > 0 && a < 255) { foreground[i * 4] = rnd(); foreground[i * 4 + 1] = rnd(); foreground[i * 4 + 2] = rnd(); }
    }
  }
  return { source, alpha, foreground };
}

function matte(seed: number, w = 64, h = 48): EncodedMatte {
  const p = product(seed, w, h);
  return encodeMatte(mask8(p.alpha, w, h), rgba8(p.foreground, w, h));
}

describe('matte encoding', () => {
  it('decodes to the identical alpha and foreground, and crops any region to the same pixels', () => {
    const w = 97, h = 61;
    const { source, alpha, foreground } = product(11, w, h);
    const m = encodeMatte(mask8(alpha, w, h), rgba8(foreground, w, h));
    expect(decodeAlpha(m).equals(alpha)).toBe(true);
    expect(decodeForeground(m, source, { x: 0, y: 0, width: w, height: h }).equals(foreground)).toBe(true);
    for (const r of [m.box, { x: 5, y: 7, width: 40, height: 30 }, { x: w - 1, y: h - 1, width: 1, height: 1 }, { x: 0, y: 20, width: w, height: 1 }]) {
      const want = Buffer.alloc(r.width * r.height * 4);
      for (let y = 0; y < r.height; y++) foreground.copy(want, y * r.width * 4, ((r.y + y) * w + r.x) * 4, ((r.y + y) * w + r.x + r.width) * 4);
      expect(decodeForeground(m, source, r).equals(want)).toBe(true);
    }
  });

  it('boxes the pixels over alpha 8, and the whole frame when there are none', () => {
    const a = Buffer.alloc(10 * 6);
    expect(matteBox(mask8(a, 10, 6))).toEqual({ x: 0, y: 0, width: 10, height: 6 });
    a[2 * 10 + 3] = 9; a[4 * 10 + 7] = 200; a[5 * 10 + 9] = 8;
    expect(matteBox(mask8(a, 10, 6))).toEqual({ x: 3, y: 2, width: 5, height: 3 });
    const { alpha, foreground } = product(3, 80, 60);
    expect(encodeMatte(mask8(alpha, 80, 60), rgba8(foreground, 80, 60)).box).toEqual(matteBox(mask8(alpha, 80, 60)));
  });

  it('stores a product matte in a small fraction of its raw size', () => {
    const w = 1200, h = 900;
    const { alpha, foreground } = product(5, w, h);
    const m = encodeMatte(mask8(alpha, w, h), rgba8(foreground, w, h));
    expect(m.runs.length + m.edgeColours.length).toBeLessThan(w * h * 0.05);
  });
});

describe('mask cache', () => {
  it('round-trips an entry keyed by the pixels, and misses on other pixels or sizes', async () => {
    const cache = createMaskCache(dir, 1 << 20);
    const px = Buffer.from([1, 2, 3, 4]);
    const key = cache.key(px, 1, 1, 'v1');
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(cache.key(Buffer.from([1, 2, 3, 5]), 1, 1, 'v1')).not.toBe(key);
    expect(cache.key(px, 1, 1, 'v2')).not.toBe(key);
    expect(cache.key(Buffer.from([1, 2, 3, 4, 1, 2, 3, 4]), 2, 1, 'v1')).not.toBe(cache.key(Buffer.from([1, 2, 3, 4, 1, 2, 3, 4]), 1, 2, 'v1'));
    const m = matte(1);
    await cache.put(key, m);
    const got = await cache.get(key, 64, 48);
    expect(got).not.toBeNull();
    expect(decodeAlpha(got!).equals(decodeAlpha(m))).toBe(true);
    expect(got!.edgeColours.equals(m.edgeColours)).toBe(true);
    expect(got!.box).toEqual(m.box);
    expect(await cache.get(key, 48, 64)).toBeNull();
    expect(await cache.get('0'.repeat(32), 64, 48)).toBeNull();
  });

  it('treats a damaged, truncated or altered entry as a miss', async () => {
    const cache = createMaskCache(dir, 1 << 20);
    await cache.put('abc', matte(2));
    const file = path.join(dir, 'abc.matte');
    const good = await readFile(file);
    expect(await cache.get('abc', 64, 48)).not.toBeNull();
    const flipped = Buffer.from(good);
    flipped[good.length - 5]! ^= 0x10;
    for (const bad of [Buffer.from('garbage that is long enough'), good.subarray(0, good.length - 7), good.subarray(0, 30), flipped, Buffer.alloc(0)]) {
      await writeFile(file, bad);
      expect(await cache.get('abc', 64, 48)).toBeNull();
    }
    // and the next put repairs it
    await cache.put('abc', matte(2));
    expect(await cache.get('abc', 64, 48)).not.toBeNull();
  });

  it('stays under its byte bound by evicting the least recently used entries', async () => {
    const probe = createMaskCache(dir, 1 << 20);
    await probe.put('probe', matte(3));
    const size = (await stat(path.join(dir, 'probe.matte'))).size;
    await rm(path.join(dir, 'probe.matte'));
    // a clock a second further on at every use
    let t = Date.parse('2026-01-01T00:00:00Z');
    const cache = createMaskCache(dir, Math.floor(size * 2.5), () => (t += 1000));
    await cache.put('a', matte(4));
    await cache.put('b', matte(5));
    expect(await cache.get('a', 64, 48)).not.toBeNull(); // a is now the most recent
    await cache.put('c', matte(6));
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['a.matte', 'c.matte']);
  });

  it('is disabled with a zero budget', async () => {
    const cache = createMaskCache(dir, 0);
    await cache.put('x', matte(7));
    expect(await cache.get('x', 64, 48)).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });
});
