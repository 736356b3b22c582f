import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { STATE_FILE } from '../../src/cli/batch/state.js';
import { collect, jsonLines, runCli, spawnCli, writePackshots } from './run-cli.js';

let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-cli-'));
  // one data dir for the file: the mask cache makes a fixture segmented once count for every later run
  env = { RESHOOT_DATA_DIR: path.join(tmp, 'data'), RESHOOT_ENGINE_THREADS: '1' };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const stateRecords = async (dir: string) =>
  (await readFile(path.join(dir, STATE_FILE), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: string; key: string });

// Child processes that each load the segmentation model: generous timeouts, no timing assertions.
describe('reshoot CLI, in-process', { timeout: 300_000 }, () => {
  it('transform writes the image at the requested ratio and reports it as JSON', async () => {
    const [mug] = await writePackshots(path.join(tmp, 't'), ['mug']);
    const out = path.join(tmp, 't', 'mug-slate.jpg');
    const r = await runCli(['transform', mug!, '-p', 'dark slate, moody rim light', '-a', '4:5', '--out', out, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [report] = jsonLines(r.stdout);
    expect(report).toMatchObject({ out, width: 816, height: 1024, format: 'jpeg' });
    // a small packshot is enlarged for 1K: the report says so (and stderr stays clean under --json)
    expect((report as { report: { warnings?: string[] } }).report.warnings).toEqual([expect.stringMatching(/^the product is enlarged/)]);
    expect(await sharp(out).metadata()).toMatchObject({ format: 'jpeg', width: 816, height: 1024 });

    // a combination the contract refuses fails before any work, on stderr, exit 1
    const bad = await runCli(['transform', mug!, '-p', 'x', '-a', '1:1', '-r', '4K', '--out', path.join(tmp, 't', 'no.png')], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('input.resolution: resolution 4K is not allowed with aspect_ratio 1:1');
    expect(existsSync(path.join(tmp, 't', 'no.png'))).toBe(false);
  });

  it('batch with one corrupt image: exit 2, the others written, failures.jsonl names it', async () => {
    const input = path.join(tmp, 'b-in');
    const out = path.join(tmp, 'b-out');
    await writePackshots(input, ['bottle', 'can'], { corrupt: 'zz-broken.jpg' });
    const r = await runCli(['batch', input, '--out', out, '-p', 'marble counter, soft window light', '-a', '1:1', '-c', '2'], env);
    expect(r.code).toBe(2);
    const lines = jsonLines(r.stdout);
    const items = lines.filter((l) => l.type === 'item');
    expect(items).toHaveLength(3);
    expect(items.filter((l) => l.status === 'done')).toHaveLength(2);
    const written = (await readdir(out)).filter((f) => f.endsWith('.png')).sort();
    // stable, readable names: <image>--<prompt words>-<prompt hash>--<ratio>-<resolution>
    expect(written).toHaveLength(2);
    ['bottle-0', 'can-1'].forEach((stem, i) => {
      expect(written[i]).toMatch(new RegExp(`^${stem}--marble-counter-soft-window-light-[0-9a-f]{4}--1x1-1k\\.png$`));
    });
    for (const f of written) expect(await sharp(path.join(out, f)).metadata()).toMatchObject({ width: 1024, height: 1024 });
    const failures = jsonLines(await readFile(path.join(out, 'failures.jsonl'), 'utf8'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ name: 'zz-broken', status: 'failed' });
    expect(String(failures[0]!.error)).toMatch(/decod/);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', done: 2, failed: 1, skipped: 0 });
    expect(r.stderr).toContain('failures in');
  });

  it('batch interrupted and resumed: nothing done twice, nothing lost', async () => {
    const input = path.join(tmp, 'r-in');
    const out = path.join(tmp, 'r-out');
    await writePackshots(input, ['mug', 'cup', 'box']);
    const args = ['batch', input, '--out', out, '-p', 'cafe counter, morning light', '-a', '1:1', '-a', '16:9', '-c', '1', '--json'];

    // first run: killed hard as soon as one item has finished (5 are still to go)
    const child = spawnCli(args, env);
    const first = collect(child);
    let seen = 0;
    child.stdout!.on('data', (c: Buffer) => {
      seen += (c.toString().match(/"status":"done"/g) ?? []).length;
      if (seen >= 1) child.kill('SIGKILL');
    });
    const r1 = await first;
    expect(r1.signal).toBe('SIGKILL');
    const doneAfterKill = new Set((await stateRecords(out)).filter((r) => r.t === 'done').map((r) => r.key));
    expect(doneAfterKill.size).toBeGreaterThanOrEqual(1);
    expect(doneAfterKill.size).toBeLessThan(6);

    // second run: skips what was done, renders the rest
    const r2 = await runCli(args, env);
    expect(r2.code).toBe(0);
    const lines = jsonLines(r2.stdout);
    const redone = lines.filter((l) => l.type === 'item' && doneAfterKill.has(String(l.key)));
    expect(redone).toEqual([]);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', skipped: doneAfterKill.size, done: 6 - doneAfterKill.size, failed: 0 });

    const records = (await stateRecords(out)).filter((r) => r.t === 'done');
    const perKey = new Map<string, number>();
    for (const r of records) perKey.set(r.key, (perKey.get(r.key) ?? 0) + 1);
    expect(perKey.size).toBe(6);
    expect([...perKey.values()].every((n) => n === 1)).toBe(true);
    const files = await readdir(out);
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(6);
    expect(files.filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(files).not.toContain('failures.jsonl');
  });

  it('--dry-run quotes items, cost and time without rendering', async () => {
    const input = path.join(tmp, 'd-in');
    const out = path.join(tmp, 'd-out');
    // the same packshots as the resumed batch: its measured throughput feeds the estimate
    await writePackshots(input, ['mug', 'cup']);
    const r = await runCli(['batch', input, '--out', out, '-p', 'a', '-p', 'b', '-a', '1:1', '-a', '3:2', '-m', 'gpt-image-2-image-to-image-pro', '--dry-run', '--json'], env);
    expect(r.code).toBe(0);
    const [q] = jsonLines(r.stdout);
    expect(q).toMatchObject({ type: 'quote', items: 8, todo: 8, alreadyDone: 0 });
    expect(q!.cost).toMatchObject({ totalUsd: 3.2, byModel: { 'gpt-image-2-image-to-image-pro': { items: 8, usd: 3.2 } } });
    expect((q!.estimate as { ms: number }).ms).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(false);

    const human = await runCli(['batch', input, '--out', out, '-p', 'a', '-a', '1:1', '--dry-run'], { ...env });
    expect(human.stdout).toContain('dry run: 2 items (2 images × 1 prompt × 1 ratio)');
    expect(human.stdout).toMatch(/estimated time: \d+:\d\d/);

    // a quote needs no output directory: nothing counts as done
    const noOut = await runCli(['batch', input, '-p', 'a', '-p', 'b', '-a', '1:1', '--dry-run', '--json'], env);
    expect(noOut.code).toBe(0);
    expect(jsonLines(noOut.stdout)[0]).toMatchObject({ type: 'quote', items: 4, todo: 4, alreadyDone: 0 });
  });
});
