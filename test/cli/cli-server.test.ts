import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { Client } from '../../src/sdk/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { jsonLines, runCli, writePackshots } from './run-cli.js';

let server: TestServer;
let tmp: string;
let env: Record<string, string>;
let images: string[];

beforeAll(async () => {
  server = await startTestServer();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-cli-srv-'));
  // the key travels by environment, the server by flag: both ways are exercised
  env = { RESHOOT_API_KEY: server.apiKey, RESHOOT_DATA_DIR: path.join(tmp, 'data') };
  images = await writePackshots(path.join(tmp, 'in'), ['mug', 'bottle']);
}, 120_000);
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

// Child processes and a server that loads the segmentation model: generous timeouts.
describe('reshoot CLI through a server', { timeout: 300_000 }, () => {
  it('transform --server uploads the local file and downloads the result', async () => {
    const out = path.join(tmp, 'mug-remote.png');
    const r = await runCli(['transform', images[0]!, '-p', 'terracotta backdrop', '-a', '3:2', '--out', out, '--server', server.url, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({ out, task: { status: 'success' } });
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 1024, height: 688 });
  });

  it('tasks create --wait, then get (found and missing)', async () => {
    const created = await runCli(['tasks', 'create', '-i', images[0]!, '-p', 'on linen', '--wait', '--json', '--server', server.url], env);
    expect(created.code).toBe(0);
    const task = jsonLines(created.stdout).at(-1)!;
    expect(task).toMatchObject({ status: 'success', model: 'gpt-image-2-image-to-image' });

    const got = await runCli(['tasks', 'get', String(task.taskId), '--server', server.url], env);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain(`${String(task.taskId)}  gpt-image-2-image-to-image  success`);

    const missing = await runCli(['tasks', 'get', 'tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR', '--server', server.url], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^reshoot: /);
  });

  it('batch --server renders every item once, and a re-run creates no new task', async () => {
    const out = path.join(tmp, 'b-out');
    const args = ['batch', path.join(tmp, 'in'), '--out', out, '-p', 'dark slate', '-a', '1:1', '--server', server.url, '--json', '-c', '2'];
    const r1 = await runCli(args, env);
    expect(r1.code).toBe(0);
    expect(jsonLines(r1.stdout).at(-1)).toMatchObject({ type: 'summary', done: 2, failed: 0 });
    expect((await readdir(out)).filter((f) => f.endsWith('.png'))).toHaveLength(2);

    const client = new Client({ baseUrl: server.url, apiKey: server.apiKey });
    const before = (await client.tasks.list()).total;
    const r2 = await runCli(args, env);
    expect(r2.code).toBe(0);
    expect(jsonLines(r2.stdout).at(-1)).toMatchObject({ type: 'summary', done: 0, skipped: 2 });
    expect((await client.tasks.list()).total).toBe(before);
  });
});
