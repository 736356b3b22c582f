import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMaskCache, type CachedMatte } from './cache.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'reshoot-masks-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

function matte(seed: number, w = 64, h = 48): CachedMatte {
  const alpha = Buffer.alloc(w * h);
  // incompressible-ish content so entry sizes are stable and non-trivial
  let s = seed;
  for (let i = 0; i < alpha.length; i++) { s = (s * 1103515245 + 12345) >>> 0; alpha[i] = s >>> 24; }
  return { width: w, height: h, alpha, edgeColours: Buffer.from([seed, 2, 3, 4, 5, 6]) };
}

describe('mask cache', () => {
  it('round-trips an entry keyed by the pixels, and misses on other pixels or sizes', async () => {
    const cache = createMaskCache(dir, 1 << 20);
    const px = Buffer.from([1, 2, 3, 4]);
    const key = cache.key(px, 1, 1, 'v1');
    expect(cache.key(Buffer.from([1, 2, 3, 5]), 1, 1, 'v1')).not.toBe(key);
    expect(cache.key(px, 1, 1, 'v2')).not.toBe(key);
    const m = matte(1);
    await cache.put(key, m);
    const got = await cache.get(key, 64, 48);
    expect(got?.alpha.equals(m.alpha)).toBe(true);
    expect(got?.edgeColours.equals(m.edgeColours)).toBe(true);
    expect(await cache.get(key, 48, 64)).toBeNull();
    expect(await cache.get('0'.repeat(40), 64, 48)).toBeNull();
  });

  it('treats a damaged entry as a miss', async () => {
    const cache = createMaskCache(dir, 1 << 20);
    await cache.put('abc', matte(2));
    await writeFile(path.join(dir, 'abc.matte'), Buffer.from('garbage that is long enough'));
    expect(await cache.get('abc', 64, 48)).toBeNull();
  });

  it('stays under its byte bound by evicting the least recently used entries', async () => {
    const probe = createMaskCache(dir, 1 << 20);
    await probe.put('probe', matte(3));
    const size = (await stat(path.join(dir, 'probe.matte'))).size;
    await rm(path.join(dir, 'probe.matte'));
    const cache = createMaskCache(dir, Math.floor(size * 2.5));
    await cache.put('a', matte(4));
    await new Promise((r) => setTimeout(r, 15));
    await cache.put('b', matte(5));
    await new Promise((r) => setTimeout(r, 15));
    expect(await cache.get('a', 64, 48)).not.toBeNull(); // a is now the most recent
    await new Promise((r) => setTimeout(r, 15));
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
