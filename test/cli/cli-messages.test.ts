import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, writePackshots } from './run-cli.js';

let tmp: string;
let env: Record<string, string>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-cli-msg-'));
  env = { RESHOOT_DATA_DIR: path.join(tmp, 'data'), RESHOOT_ENGINE_THREADS: '1' };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// What a user reads when an argument is wrong, and the help texts. Only the last test renders.
describe('reshoot CLI messages', { timeout: 300_000 }, () => {
  it('batch refuses a bad ratio or an empty prompt before starting: exit 1, no journal, no failures.jsonl', async () => {
    const input = path.join(tmp, 'b-in');
    await writePackshots(input, ['mug']);
    const out = path.join(tmp, 'b-out');
    const transform = await runCli(['transform', path.join(input, 'mug-0.png'), '-p', 'marble', '-a', '7:5'], env);
    expect(transform.code).toBe(1);

    const ratio = await runCli(['batch', input, '--out', out, '-p', 'marble', '-a', '1:1', '-a', '7:5'], env);
    expect(ratio.code).toBe(1);
    // the same message transform gives for the same flag
    const reason = transform.stderr.split('\n')[0]!;
    expect(reason).toMatch(/aspect_ratio/);
    expect(ratio.stderr).toContain(reason);

    const prompt = await runCli(['batch', input, '--out', out, '-p', ''], env);
    expect(prompt.code).toBe(1);
    expect(prompt.stderr).toMatch(/prompt/);

    const format = await runCli(['batch', input, '--out', out, '-p', 'marble', '--format', 'gif'], env);
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('--format');

    const model = await runCli(['batch', input, '--out', out, '-p', 'marble', '-m', 'no-such-model'], env);
    expect(model.code).toBe(1);
    expect(model.stderr).toContain('no-such-model');
    expect(existsSync(out)).toBe(false);

    const noOut = await runCli(['batch', input, '-p', 'marble'], env);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain('--out DIR is required');
  });

  it('a missing file says it is missing, in transform and in a batch manifest', async () => {
    const missing = path.join(tmp, 'nope.png');
    const t = await runCli(['transform', missing, '-p', 'marble'], env);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain(`${missing}: no such file`);
    expect(t.stderr).not.toContain('decodable');

    const manifest = path.join(tmp, 'm.csv');
    await writeFile(manifest, 'image,prompt\nnope.png,marble\n');
    const b = await runCli(['batch', manifest, '--out', path.join(tmp, 'm-out'), '--dry-run'], env);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain(`${missing}: no such file`);
  });

  it('keys list against a data dir that does not exist says so, exits 1 and creates nothing', async () => {
    const dir = path.join(tmp, 'no-data');
    const r = await runCli(['keys', 'list', '--data-dir', dir], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${dir}: no such data dir`);
    expect(r.stdout).toBe('');
    expect(existsSync(dir)).toBe(false);
  });

  it('help texts: worker has no HTTP flags, tasks need a server, batch -a shows one default', async () => {
    const worker = await runCli(['worker', '--help']);
    expect(worker.code).toBe(0);
    expect(worker.stdout).toContain('--worker-concurrency');
    expect(worker.stdout).not.toMatch(/--host |--port |--web-dir /);
    const serve = await runCli(['serve', '--help']);
    expect(serve.stdout).toMatch(/--host .*--port .*--web-dir /s);

    const get = await runCli(['tasks', 'get', '--help']);
    expect(get.stdout).toContain('--server');
    expect(get.stdout).not.toContain('in-process');

    const batch = await runCli(['batch', '--help']);
    const aspect = batch.stdout.slice(batch.stdout.indexOf('--aspect-ratio'), batch.stdout.indexOf('--resolution'));
    expect(aspect.match(/\(default:/g)).toHaveLength(1);
    expect(aspect).not.toContain('[]');
  });

  it('batch names outputs by the words where prompts differ, and its failures by the input file', async () => {
    const input = path.join(tmp, 'f-in');
    await writePackshots(input, [], { corrupt: 'broken.jpg' });
    const out = path.join(tmp, 'f-out');
    const shared = 'dark slate counter, moody rim light from the left';
    const r = await runCli(['batch', input, '--out', out, '-p', `${shared}, close crop`, '-p', `${shared}, wide crop`, '-a', '1:1'], env);
    expect(r.code).toBe(2);
    const failures = jsonLines(await readFile(path.join(out, 'failures.jsonl'), 'utf8'));
    const names = failures.map((f) => path.basename(f.out as string)).sort();
    expect(names[0]).toMatch(/^broken--dark-slate-close-crop-[0-9a-f]{4}--1x1-1k\.png$/);
    expect(names[1]).toMatch(/^broken--dark-slate-wide-crop-[0-9a-f]{4}--1x1-1k\.png$/);
    // the summary names what the user gave: the input file, the prompt and the ratio
    expect(r.stderr).toContain(`broken.jpg "${shared}, close crop" 1:1: `);
    expect(r.stderr).not.toMatch(/^\s+broken--/m);
    expect(r.stderr).toContain('1 image × 2 prompts × 1 ratio');
    expect(r.stderr).toContain('preparing the segmentation model…');
  });

  it('transform names the prompt words it ignored on stderr and still exits 0', async () => {
    const [mug] = await writePackshots(path.join(tmp, 'i'), ['mug'], { size: 256 });
    const r = await runCli(['transform', mug!, '-p', 'on a snowy glacier under the northern lights', '-a', '1:1', '--out', path.join(tmp, 'i', 'out.png')], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('ignored: snowy, glacier, northern');
    expect(r.stdout).toContain('out.png');

    // the mug's matte is cached now; a batch quote still times a segmentation, as a new image needs
    const quote = await runCli(['batch', path.join(tmp, 'i'), '-p', 'marble', '-a', '1:1', '--dry-run', '--json'], env);
    expect(quote.code).toBe(0);
    const [q] = jsonLines(quote.stdout);
    expect((q!.estimate as { source: string }).source).toMatch(/^measured now: one uncached 1K transform of /);
  });
});
