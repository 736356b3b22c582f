import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startServeProcess } from '../helpers/serve-process.js';

// A worker process SIGKILLed mid-render with its job on BullMQ: the job's lock is not renewed, the
// stalled-job check of another worker moves it back to waiting, and the task still ends in success,
// once.
const KEY = 'sk-test-bull-crash';
const skip = postgresUnavailable ?? redisUnavailable;

describe.skipIf(skip !== null)('a worker killed mid-task with its job on BullMQ', () => {
  let cluster: TestPostgres;
  let redis: TestRedis;
  let env: Record<string, string>;
  let api: TestServer;
  let upstream: http.Server;
  let dataDir: string;
  let holdFirst = true;
  let hits = 0;
  const children: ChildProcess[] = [];

  const startWorker = async (): Promise<ChildProcess> => {
    const { child } = await startServeProcess({ ...env, RESHOOT_ROLE: 'worker', RESHOOT_ENGINE_THREADS: '1' });
    children.push(child);
    return child;
  };


  beforeAll(async () => {
    [cluster, redis] = await Promise.all([startPostgres(), startRedis()]);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-bull-crash-'));
    const png = (await renderPackshot({ product: 'cup', background: 'white', width: 300, height: 300 })).png;
    // The first download hangs (the worker is mid-task when it dies); later ones answer at once.
    upstream = http.createServer((_req, res) => {
      hits++;
      if (holdFirst) {
        holdFirst = false;
        return;
      }
      res.setHeader('content-type', 'image/png');
      res.end(png);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    env = {
      RESHOOT_DATABASE_URL: await cluster.createDatabase(),
      RESHOOT_QUEUE_URL: redis.url,
      RESHOOT_DATA_DIR: dataDir,
      RESHOOT_API_KEYS: KEY,
      RESHOOT_FIRST_KEY: 'false',
      RESHOOT_RATE_LIMIT: 'off',
      RESHOOT_JOB_LEASE_SECONDS: '2',
      RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.1',
    };
    api = await startTestServer({ ...env, RESHOOT_ROLE: 'api' });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await api?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
    await redis?.stop();
    await cluster?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('another worker takes the job over after the lock lapses and the task succeeds', async () => {
    const first = await startWorker();
    const client = apiClient({ url: api.url, apiKey: KEY });
    const { port } = upstream.address() as AddressInfo;
    const created = await client.post('/v1/tasks', { model: MODEL, input: { prompt: 'on a wooden counter', input_urls: [`http://127.0.0.1:${port}/product.png`] } });
    expect(created.status).toBe(200);
    const id = created.body.data.taskId as string;
    // the first worker has claimed the job and is stuck fetching its reference
    const end = Date.now() + 60_000;
    while (hits === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(hits).toBe(1);
    expect((await client.get(`/v1/tasks/${id}`)).body.data.status).toBe('handling');
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;

    await startWorker();
    const { task } = await client.wait(id, 120_000);
    expect(task.status).toBe('success');
    expect(hits).toBe(2);
    const file = await fetch(task.output[0].url);
    expect(file.status).toBe(200);
  });
});
