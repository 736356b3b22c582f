import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinySegmenterModel } from '../../../test/helpers/tiny-model.js';
import { loadSegmenter } from './session.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'reshoot-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A dark disc on a light backdrop, so the model has something to find. */
function disc(size: number): Buffer {
  const img = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = Math.hypot(x - size / 2, y - size / 2) < size / 4;
      img.set(inside ? [150, 60, 40, 255] : [236, 236, 232, 255], (y * size + x) * 4);
    }
  }
  return img;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('segmenter with a model cache directory', () => {
  it('optimises the model once into the folder, answers as the in-memory model does, and remakes a damaged file', async () => {
    const img = disc(256);
    const inMemory = await loadSegmenter({ size: 256, threads: 1 });
    const expected = await inMemory.run(img);
    await inMemory.close();
    // the disc is found: the model is really running
    expect(expected[128 * 256 + 128]).toBeGreaterThan(0.9);
    expect(expected[4 * 256 + 4]).toBeLessThan(0.1);

    // what an older onnxruntime's start left: a file under another fingerprint and a crashed start's temporary file
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    writeFileSync(path.join(dir, 'isnet-medium-256-0123456789abcdef.onnx'), 'older');
    writeFileSync(path.join(dir, '.prepared-0a1b2c.onnx'), 'half');
    utimesSync(path.join(dir, '.prepared-0a1b2c.onnx'), hourAgo, hourAgo);
    writeFileSync(path.join(dir, 'isnet-medium-512-0123456789abcdef.onnx'), 'another size');
    const cached = await loadSegmenter({ size: 256, threads: 1, cacheDir: dir });
    const files = readdirSync(dir).filter((f) => f !== 'isnet-medium-512-0123456789abcdef.onnx');
    // one file under its fingerprint, the stale ones gone, another size's file kept
    expect(files).toHaveLength(1);
    expect(readdirSync(dir)).toContain('isnet-medium-512-0123456789abcdef.onnx');
    expect(files[0]).toMatch(/^isnet-medium-256-[0-9a-f]{16}\.onnx$/);
    expect(maxDiff(await cached.run(img), expected)).toBe(0);
    await cached.close();

    const file = path.join(dir, files[0]!);
    const bytes = statSync(file).size;
    writeFileSync(file, 'not a model');
    // another thread count is another session, so this load reads the folder again
    const remade = await loadSegmenter({ size: 256, threads: 2, cacheDir: dir });
    expect(readdirSync(dir).filter((f) => f.startsWith('isnet-medium-256-'))).toEqual(files);
    expect(statSync(file).size).toBe(bytes);
    expect(maxDiff(await remade.run(img), expected)).toBeLessThan(1e-4);
    await remade.close();

    // a cache folder that cannot be made (a file stands in its place) falls back to preparing in memory
    const blocked = path.join(dir, 'blocked');
    writeFileSync(blocked, 'a file, not a folder');
    const fallback = await loadSegmenter({ size: 256, threads: 1, cacheDir: path.join(blocked, 'models') });
    expect(maxDiff(await fallback.run(img), expected)).toBe(0);
    await fallback.close();
  });
});

describe('segmenter from a model file', () => {
  it('loads the file instead of the shipped weights, prepared for the size and optimised under its own name', async () => {
    const models = path.join(dir, 'other-model');
    const file = path.join(models, 'tiny.onnx');
    writeTinySegmenterModel(file);
    // the shipped model's optimised file in the same folder is not this model's to remove
    writeFileSync(path.join(models, 'isnet-medium-256-0123456789abcdef.onnx'), 'the shipped model, optimised');
    const img = disc(256);
    const inMemory = await loadSegmenter({ size: 256, threads: 1, modelPath: file });
    const expected = await inMemory.run(img);
    await inMemory.close();
    expect(expected).toHaveLength(256 * 256);
    expect(expected[128 * 256 + 128]).toBeGreaterThan(0.99);
    expect(expected[4 * 256 + 4]).toBeLessThan(0.01);

    const cached = await loadSegmenter({ size: 256, threads: 1, modelPath: file, cacheDir: models });
    expect(maxDiff(await cached.run(img), expected)).toBe(0);
    await cached.close();
    expect(readdirSync(models).sort()).toEqual(['isnet-medium-256-0123456789abcdef.onnx', expect.stringMatching(/^tiny-[0-9a-f]{8}-256-[0-9a-f]{16}\.onnx$/), 'tiny.onnx']);
  });
});
