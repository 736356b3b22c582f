import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, renderPackshot } from './fixtures/index.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(tmpdir(), 'reshoot-cutout-cli-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('reshoot cutout', () => {
  it('reshoot cutout writes one-channel mattes at the source size and reports each image as JSON, with the configured model side', async () => {
    const { buildProgram } = await import('../src/cli/index.js');
    const { default: sharp } = await import('sharp');
    const src = path.join(dir, 'in.png');
    await writeFile(src, (await renderPackshot({ ...FIXTURES.can, width: 320, height: 240 })).png);
    await writeFile(path.join(dir, 'broken.png'), Buffer.from('not a png'));
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
    const env = process.env.RESHOOT_DATA_DIR, model = process.env.RESHOOT_MODEL_PATH;
    process.env.RESHOOT_DATA_DIR = path.join(dir, 'data');
    process.env.RESHOOT_MODEL_SIZE = '512';
    // the shipped weights, not the tests' small model (vitest.config.ts)
    delete process.env.RESHOOT_MODEL_PATH;
    try {
      await buildProgram().exitOverride().parseAsync(['node', 'reshoot', 'cutout', src, path.join(dir, 'broken.png'), '--out-dir', path.join(dir, 'out'), '--json']);
    } finally {
      process.stdout.write = write;
      if (env === undefined) delete process.env.RESHOOT_DATA_DIR; else process.env.RESHOOT_DATA_DIR = env;
      delete process.env.RESHOOT_MODEL_SIZE;
      if (model !== undefined) process.env.RESHOOT_MODEL_PATH = model;
    }
    const objs = lines.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toMatchObject({ modelSize: 512, modelLoadMs: expect.any(Number) });
    // the 512 model is the one that was prepared and loaded
    expect(await readdir(process.env.RESHOOT_MODEL_CACHE_DIR!)).toEqual(expect.arrayContaining([expect.stringMatching(/^isnet-medium-512-[0-9a-f]{16}\.onnx$/)]));
    const ok = objs.find((o) => o.input === src)!;
    expect(ok).toMatchObject({ out: path.join(dir, 'out', 'in.png'), width: 320, height: 240, cached: false });
    expect(Object.keys(ok.timings as object)).toEqual(expect.arrayContaining(['decode', 'hash', 'model', 'refine']));
    // what the matte changed of the model's confident answer, per image
    const guard = ok.model as Record<string, number>;
    expect(guard.confidentForeground).toBeGreaterThan(1000);
    expect(guard.confidentForeground! + guard.confidentBackground!).toBeLessThanOrEqual(320 * 240);
    expect(guard.removedShare).toBeLessThanOrEqual(0.002);
    expect(guard.addedShare).toBeLessThanOrEqual(0.002);
    expect(objs.find((o) => String(o.input).endsWith('broken.png'))?.error).toMatch(/not a decodable image/);
    const meta = await sharp(path.join(dir, 'out', 'in.png')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([320, 240, 1]);
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
  });
});
