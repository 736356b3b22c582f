import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFTS, repaintFromMask } from '../fakes/drift.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/fake-openai.js';
import { jsonLines, runCli, writePackshots } from './run-cli.js';

// `reshoot transform --route openai` in-process: the CLI paints through the configured upstream (a
// fake OpenAI images API on loopback) and locks the product, as the server's worker does.

let tmp: string;
let openai: FakeOpenAi;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-cli-gen-'));
  openai = await startFakeOpenAi(
    (req) => repaintFromMask(req.image, req.mask!, DRIFTS[3]!),
    async (png) => { const m = await sharp(png).metadata(); return { width: m.width!, height: m.height! }; },
  );
});
afterAll(async () => {
  await openai?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('reshoot transform --route', { timeout: 300_000 }, () => {
  it('paints through the route\'s upstream and reports the lock; an unconfigured route and a bad lock are refused', async () => {
    const [mug] = await writePackshots(path.join(tmp, 'in'), ['mug']);
    const env = { RESHOOT_DATA_DIR: path.join(tmp, 'data'), RESHOOT_ENGINE_THREADS: '1', RESHOOT_OPENAI_BASE_URL: openai.url, RESHOOT_OPENAI_API_KEY: openai.apiKey };
    const out = path.join(tmp, 'mug-gen.png');
    const r = await runCli(['transform', mug!, '-p', 'on a sunlit kitchen counter', '-a', '3:2', '--route', 'openai', '--lock', 'blend', '--out', out, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const [line] = jsonLines(r.stdout) as Array<{ width: number; height: number; report: { engine: string; lock: { mode: string; found: boolean; deltaE: { after: number } } } }>;
    expect(line!.report.engine).toBe('openai');
    expect(line!.report.lock).toMatchObject({ mode: 'blend', found: true });
    expect(line!.report.lock.deltaE.after).toBeLessThan(1);
    expect(openai.requests).toHaveLength(1);
    expect(openai.requests[0]).toMatchObject({ model: 'gpt-image-1', size: '1536x1024' });
    expect(await sharp(out).metadata()).toMatchObject({ width: line!.width, height: line!.height });

    const unconfigured = await runCli(['transform', mug!, '-p', 'x', '--route', 'comfyui', '--out', path.join(tmp, 'no.png')], env);
    expect(unconfigured.code).toBe(1);
    expect(unconfigured.stderr).toContain('--route: comfyui is not configured (configured: studio, openai');
    const badLock = await runCli(['transform', mug!, '-p', 'x', '--route', 'openai', '--lock', 'tight', '--out', path.join(tmp, 'no.png')], env);
    expect(badLock.code).toBe(1);
    expect(badLock.stderr).toContain('input.lock: must be one of strict, blend, off');
    expect(openai.requests).toHaveLength(1);
  });
});
