import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/sdk/index.js';
import { startPaintingHiapi } from '../fakes/layout-painter.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { FakeHiapi } from '../sdk/fake-hiapi.js';
import { jsonLines, runCli, writePackshots } from './run-cli.js';

/**
 * `reshoot batch --route --lock` against a real server whose hiapi route paints through a fake hiapi
 * upstream on loopback (it repaints the layout and drifts the product; a prompt with CHANGED reshapes
 * it, which a strict lock refuses). Bad routes and lock modes stop the batch before anything is
 * written; the route and lock go on every task; a resumed run sends the same bodies under the same
 * Idempotency-Keys (the server replays, nothing is created or painted twice).
 */

let tmp: string;
let hiapi: FakeHiapi;
let server: TestServer;
let client: Client;
let env: Record<string, string>;
let image: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-cli-route-'));
  hiapi = await startPaintingHiapi();
  server = await startTestServer({
    RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url,
    RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey,
    RESHOOT_UPSTREAM_POLL_MS: '20',
    RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
  });
  client = new Client({ baseUrl: server.url, apiKey: server.apiKey });
  env = { RESHOOT_API_KEY: server.apiKey, RESHOOT_DATA_DIR: path.join(tmp, 'data'), RESHOOT_ENGINE_THREADS: '1' };
  image = (await writePackshots(path.join(tmp, 'in'), ['mug']))[0]!;
}, 60_000);
afterAll(async () => {
  await server?.close();
  await hiapi?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('reshoot batch --route --lock', { timeout: 300_000 }, () => {
  it('refuses a bad route or lock mode before anything starts: exit 1, no output folder, no task', async () => {
    const out = path.join(tmp, 'refused');
    const base = ['batch', path.join(tmp, 'in'), '--out', out, '-p', 'on slate', '-a', '1:1'];
    const cases: Array<[string[], string]> = [
      [['--route', 'hiapi'], '--route hiapi: an in-process batch renders with the studio only; give --server URL'],
      [['--route', 'ext', '--server', server.url], '--route: must be one of default, studio, hiapi, openai, comfyui (received ext)'],
      [['--route', 'comfyui', '--server', server.url], `--route: comfyui is not configured on ${server.url} (its routes: default, studio, hiapi)`],
      [['--route', 'hiapi', '--lock', 'tight', '--server', server.url], 'input.lock: must be one of strict, blend, off'],
    ];
    for (const [extra, message] of cases) {
      const r = await runCli([...base, ...extra], env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(message);
      expect(existsSync(out)).toBe(false);
    }
    expect((await client.tasks.list()).total).toBe(0);
    expect(hiapi.created()).toBe(0);
  });

  it('carries the route and lock into every task, reports the lock, names a strict refusal\'s reason, and resumes with the same bodies', async () => {
    const out = path.join(tmp, 'gen');
    const args = ['batch', path.join(tmp, 'in'), '--out', out, '-p', 'on a sunlit kitchen counter', '-p', 'on slate, CHANGED', '-a', '1:1', '--route', 'hiapi', '--lock', 'strict', '--server', server.url, '--json', '-c', '2'];
    const r1 = await runCli(args, env);
    expect(r1.code, r1.stderr).toBe(2);
    const lines = jsonLines(r1.stdout);
    const items = lines.filter((l) => l.type === 'item') as Array<Record<string, any>>;
    const done = items.find((i) => i.status === 'done')!;
    const failed = items.find((i) => i.status === 'failed')!;
    expect(done).toMatchObject({ route: 'hiapi', lock: 'strict', report: { engine: 'hiapi', lock: { mode: 'strict', found: true } } });
    expect(done.report.lock.silhouetteIoU).toBeGreaterThanOrEqual(0.85);
    expect(done.report.lock.deltaE.after).toBeLessThan(done.report.lock.deltaE.before);
    expect(done.out).toMatch(/--1x1-1k--hiapi\.png$/);
    expect((await sharp(done.out).metadata()).width).toBe(1024);
    expect(failed).toMatchObject({ route: 'hiapi', lock: 'strict', lockRefused: true, reason: { code: 'TASK_FAILED' } });
    expect(failed.reason.message).toMatch(/^product lock: the upstream changed the product's silhouette \(IoU 0\.\d+ after alignment < 0\.85\)/);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', done: 1, failed: 1, route: 'hiapi', lockRefused: 1 });
    // the human summary (stderr with --json) and failures.jsonl say why
    expect(r1.stderr).toMatch(/lock refused\s+1\s+the upstream changed the product; --lock blend keeps such frames/);
    expect(r1.stderr).toContain("product lock: the upstream changed the product's silhouette");
    const failures = (await readFile(path.join(out, 'failures.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ lockRefused: true, route: 'hiapi', reason: { code: 'TASK_FAILED' } });
    // both tasks carry the route on the server
    const tasks = (await client.tasks.list()).tasks;
    expect(tasks.map((t) => t.route)).toEqual(['hiapi', 'hiapi']);
    expect(hiapi.created()).toBe(2);

    // A crash right after the creates, before they were journalled: the journal keeps only the upload.
    // The re-run creates under the same Idempotency-Keys with byte-identical bodies, so the server
    // replays both tasks (a different body would be 422) and nothing is created or painted again.
    const journal = path.join(out, '.reshoot-batch.jsonl');
    const records = (await readFile(journal, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.t === 'submitted').map((r) => r.route)).toEqual(['hiapi', 'hiapi']);
    const kept = (await readFile(journal, 'utf8')).split('\n').filter((l) => l.includes('"t":"upload"'));
    expect(kept).toHaveLength(1);
    await writeFile(journal, kept.join('\n') + '\n');
    for (const f of await readdir(out)) if (f.endsWith('.png')) await rm(path.join(out, f));
    const r2 = await runCli(args, env);
    expect(r2.code, r2.stderr).toBe(2);
    const items2 = jsonLines(r2.stdout).filter((l) => l.type === 'item') as Array<Record<string, any>>;
    expect(items2.map((i) => i.taskId).sort()).toEqual(items.map((i) => i.taskId).sort());
    expect(items2.find((i) => i.status === 'done')?.report.lock.found).toBe(true);
    expect((await client.tasks.list()).total).toBe(2);
    expect(hiapi.created()).toBe(2);
  });

  it('tasks create --route --lock creates the task on that route', async () => {
    const r = await runCli(['tasks', 'create', '-i', image, '-p', 'on a sunlit kitchen counter', '-a', '1:1', '--route', 'hiapi', '--lock', 'off', '--wait', '--json', '--server', server.url], env);
    expect(r.code, r.stderr).toBe(0);
    const task = jsonLines(r.stdout).at(-1) as { route: string; reshoot: { engine: string; lock: { mode: string } } };
    expect(task).toMatchObject({ route: 'hiapi', reshoot: { engine: 'hiapi', lock: { mode: 'off' } } });
    const refused = await runCli(['tasks', 'create', '-i', image, '-p', 'x', '--route', 'comfyui', '--server', server.url], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('route "comfyui" is not configured on this server; valid routes: default, studio, hiapi');
  });

  it('transform --server --route sends the route at the top level', async () => {
    const out = path.join(tmp, 'one.png');
    const r = await runCli(['transform', image, '-p', 'on a sunlit kitchen counter', '-a', '1:1', '--route', 'hiapi', '--lock', 'blend', '--server', server.url, '--out', out, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const [line] = jsonLines(r.stdout) as Array<{ task: { route: string; model: string; reshoot: { engine: string; lock: { mode: string } } } }>;
    expect(line!.task).toMatchObject({ route: 'hiapi', reshoot: { engine: 'hiapi', lock: { mode: 'blend' } } });
    expect(line!.task.model).toMatch(/@hiapi$/);
  });
});
