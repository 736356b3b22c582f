import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRaw, type Product } from '../fixtures/packshot.js';
import { jsonLines, runCli } from './run-cli.js';

let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-cli-fx-'));
  env = { RESHOOT_DATA_DIR: path.join(tmp, 'data'), RESHOOT_ENGINE_THREADS: '1' };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A packshot with its exact alpha in the PNG: the engine takes a reference's own alpha as its matte, so no model decides. */
async function cutOutPng(product: Product): Promise<string> {
  const size = 360;
  const { rgb, alpha } = renderRaw({ product, background: 'white', width: size, height: size, seed: 2 });
  const rgba = Buffer.alloc(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    rgba[i * 4] = rgb[i * 3]!; rgba[i * 4 + 1] = rgb[i * 3 + 1]!; rgba[i * 4 + 2] = rgb[i * 3 + 2]!; rgba[i * 4 + 3] = alpha[i]!;
  }
  const file = path.join(tmp, `${product}.png`);
  await writeFile(file, await sharp(rgba, { raw: { width: size, height: size, channels: 4 } }).png().toBuffer());
  return file;
}

describe('reshoot transform, steam and the product', { timeout: 300_000 }, () => {
  it('prints where the steam went: dropped over a chair, from the rim of a cup', async () => {
    const chair = await cutOutPng('chair');
    const r = await runCli(['transform', chair, '-p', 'on dark slate with rising steam', '--out', path.join(tmp, 'chair-out.png')], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: steam: dropped — the product has no opening for it to rise from \(/m);

    const cup = await cutOutPng('cup');
    const j = await runCli(['transform', cup, '-p', 'on dark slate with rising steam', '--out', path.join(tmp, 'cup-out.png'), '--json'], env);
    expect(j.code, j.stderr).toBe(0);
    // with --json the report carries it, and stderr stays clean
    expect(j.stderr).toBe('');
    const [line] = jsonLines(j.stdout);
    const plan = (line as { report: { plan: { effects: { steam: number }; words: { notes?: string[] } } } }).report.plan;
    expect(plan.effects.steam).toBeGreaterThan(0);
    expect(plan.words.notes).toEqual([expect.stringMatching(/^steam: rises from the product's opening/)]);
  });
});
