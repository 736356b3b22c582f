import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueue } from '../../src/queue/bullmq/bullmq-queue.js';
import { createPostgresPool, createPostgresStore } from '../../src/store/postgres/store.js';
import { reconcileQueued } from '../../src/tasks/service.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// RESHOOT_QUEUE_URL: render and callback jobs on BullMQ (a throwaway Redis), tasks in Postgres. An
// API-only node takes the creates; a worker node renders them (the two share a data dir for the files).
const skip = postgresUnavailable ?? redisUnavailable;
describe.skipIf(skip !== null)('the API with its jobs on BullMQ', () => {
  let cluster: TestPostgres;
  let redis: TestRedis;
  let dbUrl: string;
  let worker: TestServer;
  let api: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    [cluster, redis] = await Promise.all([startPostgres(), startRedis()]);
    dbUrl = await cluster.createDatabase();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-bull-'));
    const env = { RESHOOT_DATABASE_URL: dbUrl, RESHOOT_QUEUE_URL: redis.url, RESHOOT_API_KEYS: 'sk-test-bull-owner', RESHOOT_DATA_DIR: dataDir };
    api = await startTestServer({ ...env, RESHOOT_ROLE: 'api' });
    worker = await startTestServer({ ...env, RESHOOT_ROLE: 'worker' });
  });
  afterAll(async () => {
    // the last case stops Redis: shutting down without it is bounded (the worker waits out its 30 s deadline)
    const t0 = Date.now();
    await api?.close();
    await worker?.close();
    expect(Date.now() - t0).toBeLessThan(60_000);
    await redis?.stop();
    await cluster?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('a task created on the API node is rendered by the worker node through Redis', async () => {
    const client = apiClient(api);
    const created = await client.post('/v1/tasks', { model: MODEL, input: { prompt: 'on a linen tablecloth', input_urls: [await productDataUri()], aspect_ratio: '4:3' } });
    expect(created.status).toBe(200);
    const { task } = await client.wait(created.body.data.taskId as string);
    expect(task.status).toBe('success');
    const file = await fetch(task.output[0].url);
    expect(file.status).toBe(200);
    const meta = await sharp(Buffer.from(await file.arrayBuffer())).metadata();
    expect(meta.width! / meta.height!).toBeCloseTo(4 / 3, 1);
    // no render job row in Postgres: the job lived in Redis
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      expect((await c.query(`SELECT count(*)::int AS n FROM jobs`)).rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('a task whose job was lost between its commit and its add is queued again by the reconciler', async () => {
    const client = apiClient(api);
    const created = await client.post('/v1/tasks', { model: MODEL, input: { prompt: 'on white', input_urls: [await productDataUri()] } });
    const done = await client.wait(created.body.data.taskId as string);
    expect(done.task.status).toBe('success');
    // a copy of that task as a crash would leave it: committed, still queued, no job in Redis
    const pool = createPostgresPool(dbUrl);
    const store = createPostgresStore(pool);
    const queue = createBullQueue({ url: redis.url, logger: pino({ level: 'silent' }), leaseMs: 60_000, defaultMaxAttempts: 3 });
    try {
      const orphan = `tk-hiapi-${'0'.repeat(20)}ZZZZZZ`;
      await pool.query(
        `INSERT INTO tasks (id, key_id, model, status, created, storage, route, input, callback_url, cost_usd, parent_id, updated_ms)
         SELECT $1, key_id, model, 'queued', extract(epoch from now())::bigint, storage, route, input, NULL, cost_usd, NULL, 0 FROM tasks WHERE id = $2`,
        [orphan, done.task.taskId],
      );
      expect(await queue.depth('image.reshoot')).toBe(0);
      expect(await reconcileQueued({ store, queue, graceMs: 60_000 })).toBe(1);
      // a second pass while the job is still held adds nothing new
      await reconcileQueued({ store, queue, graceMs: 60_000 });
      const { task } = await client.wait(orphan);
      expect(task.status).toBe('success');
      expect(await reconcileQueued({ store, queue, graceMs: 60_000 })).toBe(0);
    } finally {
      await queue.close(100);
      await pool.end();
    }
  });

  // last: it stops Redis
  it('/readyz checks Redis too, and answers 503 once it is down', async () => {
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    await redis.stop();
    const res = await fetch(`${api.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/^not ready: /);
  });
});
