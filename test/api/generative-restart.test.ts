import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEEP_PRODUCT } from '../../src/providers/hiapi/index.js';
import { startPaintingHiapi } from '../fakes/layout-painter.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import type { FakeHiapi } from '../sdk/fake-hiapi.js';
import { startServeProcess } from '../helpers/serve-process.js';

// A worker killed (SIGKILL) while the hiapi upstream is still painting: the upstream's task id was
// stored on the task as soon as the create answered, so after a restart the job is taken over and the
// new worker polls that task instead of creating another. The fake forgets its Idempotency-Keys
// across the restart (past hiapi's 24 h window, or an upstream that does not keep them), so a worker
// that created again would start (and pay for) a second upstream task. One upstream create in total.

const KEY = 'sk-test-gen-restart';
const PROMPT = 'on a walnut desk by a window';
let dataDir: string;
let fake: FakeHiapi;

function startChild(port: number): Promise<{ child: ChildProcess; url: string }> {
  return startServeProcess({
    RESHOOT_HOST: '127.0.0.1',
    RESHOOT_PORT: String(port),
    RESHOOT_DATA_DIR: dataDir,
    RESHOOT_API_KEYS: KEY,
    RESHOOT_FIRST_KEY: 'false',
    RESHOOT_RATE_LIMIT: 'off',
    RESHOOT_JOB_LEASE_SECONDS: '2',
    RESHOOT_ENGINE_THREADS: '1',
    RESHOOT_HIAPI_UPSTREAM_URL: fake.url,
    RESHOOT_HIAPI_UPSTREAM_KEY: fake.apiKey,
    RESHOOT_UPSTREAM_POLL_MS: '50',
  });
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-gen-restart-'));
  fake = await startPaintingHiapi();
  // the upstream task stays in handling for 120 polls (about 6 s at 50 ms), then succeeds
  fake.script(`${PROMPT}\n\n${KEEP_PRODUCT}`, [...Array<string>(120).fill('handling'), 'success']);
});
afterAll(async () => {
  await fake?.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('generative restart', () => {
  it('a worker killed while the upstream paints resumes the stored upstream task: one create in total', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const first = await startChild(port);
    const api = apiClient({ url: first.url, apiKey: KEY });
    const created = await api.post('/v1/tasks', { model: MODEL, route: 'hiapi', input: { prompt: PROMPT, input_urls: [await productDataUri()], aspect_ratio: '1:1', resolution: '1K' } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const id = created.body.data.taskId;
    const polls = () => fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/tasks/tk-'));
    // kill once the upstream task exists and is being polled
    for (let i = 0; i < 2400 && polls().length < 5; i++) await new Promise((r) => setTimeout(r, 25));
    expect(fake.created()).toBe(1);
    const upstreamId = polls()[0]!.path.slice('/v1/tasks/'.length);
    // the stored upstream task shows on the task while it paints (the operator's lead)
    const painting = await api.get(`/v1/tasks/${id}`);
    expect(painting.body.data.status).toBe('handling');
    expect(painting.body.data.reshoot.upstream).toEqual({ engine: 'hiapi', taskId: upstreamId });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    fake.forgetIdempotencyKeys();
    const before = fake.requests.length;

    const second = await startChild(port);
    try {
      const { task } = await apiClient({ url: second.url, apiKey: KEY }).wait(id);
      expect(task.status, JSON.stringify(task.error)).toBe('success');
      expect(fake.created()).toBe(1);
      expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks')).toHaveLength(1);
      // the second worker polled the stored task
      const after = fake.requests.slice(before).filter((r) => r.method === 'GET' && r.path.startsWith('/v1/tasks/'));
      expect(after.length).toBeGreaterThan(0);
      expect(new Set(after.map((r) => r.path))).toEqual(new Set([`/v1/tasks/${upstreamId}`]));
      expect(task.reshoot.upstream).toEqual({ engine: 'hiapi', taskId: upstreamId, model: MODEL, createAttempts: 0, replayed: false, resumed: true });
      expect(task.reshoot.lock).toMatchObject({ mode: 'strict', found: true });
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  }, 120_000);
});
