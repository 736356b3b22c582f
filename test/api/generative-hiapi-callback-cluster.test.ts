import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftFor, repaintLayout } from '../fakes/layout-painter.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { freePort } from '../helpers/free-port.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startFakeHiapi, type FakeHiapi } from '../sdk/fake-hiapi.js';

// hiapi's callback when the API and the worker are different nodes (tasks in Postgres, jobs on
// BullMQ): the API node takes the callback and records it on the task; the worker node, which shares
// nothing with it in memory, finds the record in the store and asks the upstream at once.
const SECRET = 'whsec-cluster-0123456789abcdef';
const skip = postgresUnavailable ?? redisUnavailable;
describe.skipIf(skip !== null)('hiapi callback across an API node and a worker node', () => {
  let cluster: TestPostgres;
  let redis: TestRedis;
  let hiapi: FakeHiapi;
  let api: TestServer;
  let worker: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    [cluster, redis] = await Promise.all([startPostgres(), startRedis()]);
    hiapi = await startFakeHiapi({
      fetchInputs: true, webhookSecret: SECRET, runMs: 200,
      paint: async ({ input, refs }) => repaintLayout(refs[0]!, driftFor(String(input.prompt))),
    });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-hiapi-cb-'));
    const port = await freePort();
    const env = {
      RESHOOT_DATABASE_URL: await cluster.createDatabase(), RESHOOT_QUEUE_URL: redis.url, RESHOOT_API_KEYS: 'sk-test-hiapi-cb', RESHOOT_DATA_DIR: dataDir,
      RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url, RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey, RESHOOT_UPSTREAM_POLL_MS: '50', RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
      RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET: SECRET, RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS: '600000',
      RESHOOT_PUBLIC_URL: `http://127.0.0.1:${port}`,
    };
    api = await startTestServer({ ...env, RESHOOT_ROLE: 'api', RESHOOT_PORT: String(port) });
    worker = await startTestServer({ ...env, RESHOOT_ROLE: 'worker' });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await worker?.close();
    await hiapi?.close();
    await redis?.stop();
    await cluster?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('the callback taken by the API node finishes the task on the worker node: two upstream polls, no safety poll due', async () => {
    const client = apiClient(api);
    const t0 = Date.now();
    const created = await client.post('/v1/tasks', { model: MODEL, route: 'hiapi', input: { prompt: 'on a stone ledge, two nodes', input_urls: [await productDataUri()], aspect_ratio: '1:1', resolution: '1K', seed: 3 } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const taskId = created.body.data.taskId as string;
    const { task } = await client.wait(taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(Date.now() - t0).toBeLessThan(120_000);
    const upstream = task.reshoot.upstream.taskId as string;
    expect(task.reshoot.upstream).toMatchObject({ engine: 'hiapi', callback: 'received' });
    const sent = hiapi.callbacks.filter((c) => c.taskId === upstream);
    expect(sent.map((c) => [c.url.startsWith(`${api.url}/upstream/hiapi/callback/${taskId}?t=`), c.status])).toEqual([[true, 200]]);
    expect(hiapi.polls(upstream)).toBeLessThanOrEqual(2);
  }, 150_000);
});
