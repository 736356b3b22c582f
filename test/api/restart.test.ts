import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { startServeProcess } from '../helpers/serve-process.js';

// A worker killed mid-task (SIGKILL, no cleanup): after a restart the lease runs out, another worker
// takes the job over and the task still ends in success. Nothing queued or running is lost.

const KEY = 'sk-test-restart';
let dataDir: string;
let upstream: http.Server;
let hits = 0;
let holdFirst = true;
let png: Buffer;

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
    RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.1',
  });
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-restart-'));
  png = (await renderPackshot({ product: 'cup', background: 'white', width: 300, height: 300 })).png;
  // The first download hangs (the worker is mid-task when it dies); later ones answer at once.
  upstream = http.createServer((_req, res) => {
    hits++;
    if (holdFirst) {
      holdFirst = false;
      return; // never answers
    }
    res.setHeader('content-type', 'image/png');
    res.end(png);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('restart', () => {
  it('a task whose worker was killed mid-task ends in success after a restart', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const first = await startChild(port);
    const api = apiClient({ url: first.url, apiKey: KEY });
    const { port: up } = upstream.address() as AddressInfo;
    const created = await api.post('/v1/tasks', {
      model: MODEL,
      input: { prompt: 'on a wooden counter', input_urls: [`http://127.0.0.1:${up}/product.png`] },
    });
    const id = created.body.data.taskId;
    // Wait until the worker is inside the task (its download is hanging), then kill it outright.
    for (let i = 0; i < 2400 && hits === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(hits).toBe(1);
    expect((await api.get(`/v1/tasks/${id}`)).body.data.status).toBe('handling');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startChild(port);
    try {
      const { task } = await apiClient({ url: second.url, apiKey: KEY }).wait(id);
      expect(task.status).toBe('success');
      expect(task.output).toHaveLength(1);
      expect(hits).toBe(2);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });

  it('SIGKILL in the middle of a run of renders: every created task ends in success exactly once after a restart', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const first = await startChild(port);
    const api = apiClient({ url: first.url, apiKey: KEY });
    const uri = `data:image/png;base64,${png.toString('base64')}`;
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await api.post('/v1/tasks', { model: MODEL, input: { prompt: `on slate, seed ${i}`, input_urls: [uri], seed: i } });
      expect(r.status).toBe(200);
      ids.push(r.body.data.taskId);
    }
    // Kill once some have finished and others are still queued or rendering.
    const statuses = async (base: ReturnType<typeof apiClient>) => Promise.all(ids.map(async (id) => (await base.get(`/v1/tasks/${id}`)).body.data.status as string));
    for (let i = 0; i < 2400; i++) {
      const now = await statuses(api);
      if (now.includes('success') && now.some((st) => st !== 'success')) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const atKill = await statuses(api);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(atKill.filter((st) => st === 'success').length).toBeGreaterThan(0);
    expect(atKill.filter((st) => st !== 'success').length).toBeGreaterThan(0);

    const second = await startChild(port);
    try {
      const api2 = apiClient({ url: second.url, apiKey: KEY });
      for (const id of ids) {
        const { task } = await api2.wait(id);
        expect(task.status, id).toBe('success');
        expect(task.output).toHaveLength(1);
      }
      // nothing lost and nothing made twice: exactly the created tasks, no more
      expect((await api2.get('/v1/tasks?size=100')).body.data.total).toBe(ids.length + 1);
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
  });
});
