import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';

/**
 * The scaled-out deployment as separate processes: two `reshoot serve --role api` and two
 * `reshoot worker`, each with a data dir of its own, sharing nothing but one Postgres, one Redis
 * (BullMQ) and one S3 bucket (s3rver). Tasks go round-robin through both APIs under Idempotency-Keys,
 * some replayed on the other node. One worker is SIGKILLed holding a task in `handling` (stuck
 * fetching its reference), later the other mid-render; a fresh worker replaces each. Everything must
 * still end exactly once.
 *
 * 200 tasks: 1024 px outputs from 256 px packshots through the tiny segmentation model
 * (vitest.config.ts), one render at a time per worker, run in under 2 minutes on a 2-core machine.
 */
const TASKS = 200;
const KEY = 'sk-test-cluster';
const CLI = path.resolve(__dirname, '../../src/cli/main-dev.ts');

const s3 = postgresUnavailable ?? redisUnavailable ? null : await startTestS3('reshoot-cluster');
const skip = postgresUnavailable ?? redisUnavailable ?? (s3 && 'skip' in s3 ? s3.skip : null);
if (skip) console.warn(`[skipped] the multi-process cluster test: ${skip}`);

interface Node {
  child: ChildProcess;
  url: string | null;
  out: string;
}

interface Delivery {
  taskId: string;
  status: string;
  output: Array<{ url: string }>;
  signature: string | undefined;
}

describe.skipIf(skip !== null)('2 API processes and 2 worker processes on one Postgres, Redis and S3', () => {
  let cluster: TestPostgres;
  let redis: TestRedis;
  let bucket: TestS3;
  let dbUrl: string;
  let env: Record<string, string>;
  const nodes: Node[] = [];
  const dirs: string[] = [];
  let apis: Node[] = [];
  let refs: http.Server;
  let receiver: http.Server;
  let refBase = '';
  let callbackUrl = '';
  const deliveries: Delivery[] = [];
  /** the reference a worker hangs on: the first request for it never answers */
  let holdHits = 0;
  const packshots = new Map<string, Buffer>();

  /** `reshoot serve --role api` or `reshoot worker` as a child process, resolved once it is up */
  const start = async (role: 'api' | 'worker'): Promise<Node> => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `reshoot-cluster-${role}-`));
    dirs.push(dataDir);
    const args = role === 'api' ? ['serve', '--role', 'api', '--host', '127.0.0.1', '--port', '0'] : ['worker'];
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--data-dir', dataDir], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const node: Node = { child, url: null, out: '' };
    nodes.push(node);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        node.out += d.toString();
        const m = /reshoot api listening on (http:\/\/\S+)/.exec(node.out);
        if (m) node.url = m[1]!.replace(/\/+$/, '');
        if (node.url || /reshoot worker running/.test(node.out)) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`${role} exited early (${code ?? signal}): ${node.out}`)));
    });
    return node;
  };

  /**
   * A worker also delivers callbacks: it is killed between two of them (150 ms after one, with none
   * since; a render takes longer), so no delivery is cut between its POST and its record, which
   * at-least-once delivery would send again.
   */
  const killBetweenDeliveries = async (node: Node, until: number) => {
    for (;;) {
      const before = deliveries.length;
      while (deliveries.length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      const seen = deliveries.length;
      await new Promise((r) => setTimeout(r, 150));
      if (deliveries.length === seen || Date.now() >= until) break;
    }
    await kill(node);
  };

  const kill = async (node: Node) => {
    const exited = new Promise((r) => node.child.once('exit', r));
    node.child.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    bucket = s3 as TestS3;
    [cluster, redis] = await Promise.all([startPostgres(), startRedis()]);
    dbUrl = await cluster.createDatabase();

    // small packshots served over HTTP as the tasks' references, plus one that hangs the first time
    for (const [i, product] of (['mug', 'cup', 'can', 'bottle'] as const).entries()) {
      packshots.set(`/p${i}.png`, (await renderPackshot({ product, background: 'white', width: 256, height: 256 })).png);
    }
    refs = http.createServer((req, res) => {
      if (req.url === '/held.png' && holdHits++ === 0) return; // the worker that asked is stuck mid-task
      const png = packshots.get(req.url === '/held.png' ? '/p0.png' : (req.url ?? ''));
      if (!png) return void res.writeHead(404).end();
      res.setHeader('content-type', 'image/png');
      res.end(png);
    });
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Delivery;
        deliveries.push({ taskId: body.taskId, status: body.status, output: body.output, signature: req.headers['x-hiapi-signature'] as string | undefined });
        res.writeHead(200).end('ok');
      });
    });
    await Promise.all([refs, receiver].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    refBase = `http://127.0.0.1:${(refs.address() as AddressInfo).port}`;
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    env = {
      ...bucket.env('cluster'),
      RESHOOT_DATABASE_URL: dbUrl,
      RESHOOT_QUEUE_URL: redis.url,
      RESHOOT_API_KEYS: KEY,
      RESHOOT_FIRST_KEY: 'false',
      RESHOOT_RATE_LIMIT: 'off',
      RESHOOT_LOG_LEVEL: process.env.RESHOOT_TEST_LOG ?? 'silent',
      RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.1',
      // the held reference must hold until the worker is killed, not time out into a retry
      RESHOOT_FETCH_TIMEOUT_MS: '300000',
      RESHOOT_WEBHOOK_SECRET: 'cluster-webhook-secret-0123456789',
      RESHOOT_JOB_LEASE_SECONDS: '4',
      RESHOOT_WORKER_CONCURRENCY: '1',
      RESHOOT_ENGINE_THREADS: '1',
    };
    // the first API node migrates the database; the rest start on it together
    apis = [await start('api')];
    apis.push(await start('api'));
  });

  afterAll(async () => {
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) await kill(n);
    for (const s of [refs, receiver]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r));
    }
    await redis?.stop();
    await cluster?.stop();
    await bucket?.close();
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it(`runs ${TASKS} tasks to success exactly once through two worker crashes`, async () => {
    const clients = apis.map((a) => apiClient({ url: a.url!, apiKey: KEY }));
    const body = (i: number, ref: string) => ({
      model: MODEL,
      input: { prompt: `catalogue shot ${i} on warm stone`, input_urls: [`${refBase}${ref}`], aspect_ratio: '1:1' },
      callback: { url: callbackUrl },
    });

    // Worker A starts alone and takes the held task: it is stuck fetching the reference when it dies.
    const workerA = await start('worker');
    const held = await clients[0]!.post('/v1/tasks', body(0, '/held.png'), { 'idempotency-key': 'cluster-0' });
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    const heldId = held.body.data.taskId as string;
    const end = Date.now() + 60_000;
    while (holdHits === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(holdHits).toBe(1);
    const workerB = await start('worker');

    // the rest round-robin through both APIs, each under its own Idempotency-Key
    const ids = new Map<number, string>([[0, heldId]]);
    for (let i = 1; i < TASKS; i++) {
      const b = body(i, `/p${i % 4}.png`);
      if (i % 15 === 0) {
        // the same request on both nodes at once: one creates, the other replays or is told to retry
        const both = await Promise.all(clients.map((c) => c.post('/v1/tasks', b, { 'idempotency-key': `cluster-${i}` })));
        for (const r of both) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
        const created = both.filter((r) => r.status === 200);
        expect(created.length).toBeGreaterThan(0);
        ids.set(i, created[0]!.body.data.taskId as string);
        for (const r of created) expect(r.body.data.taskId).toBe(ids.get(i));
        continue;
      }
      const r = await clients[i % 2]!.post('/v1/tasks', b, { 'idempotency-key': `cluster-${i}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.headers.get('idempotent-replay')).toBeNull();
      ids.set(i, r.body.data.taskId as string);
    }
    // replays on the other node: the same taskId back, nothing new
    for (let i = 0; i < TASKS; i += 5) {
      const r = await clients[(i + 1) % 2]!.post('/v1/tasks', body(i, i === 0 ? '/held.png' : `/p${i % 4}.png`), { 'idempotency-key': `cluster-${i}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.headers.get('idempotent-replay')).toBe('true');
      expect(r.body.data.taskId).toBe(ids.get(i));
    }
    expect(new Set(ids.values()).size).toBe(TASKS);

    // a third of the way through, worker A dies holding the held task (in handling); a new worker
    // takes its place, and whichever worker is free picks the job up once its lock lapses
    const third = Date.now() + 120_000;
    while (deliveries.length < TASKS / 3 && Date.now() < third) await new Promise((r) => setTimeout(r, 100));
    expect((await clients[1]!.get(`/v1/tasks/${heldId}`)).body.data.status).toBe('handling');
    await killBetweenDeliveries(workerA, third);
    await start('worker');
    // two thirds through, worker B dies mid-render: a worker takes the next render job as soon as it
    // finishes one, so between two deliveries it is rendering
    const twoThirds = Date.now() + 120_000;
    while (deliveries.length < (2 * TASKS) / 3 && Date.now() < twoThirds) await new Promise((r) => setTimeout(r, 100));
    await killBetweenDeliveries(workerB, twoThirds);
    await start('worker');

    // the receiver hears of each task as it ends (polling 200 tasks would load the 2 cores more)
    const done = Date.now() + 170_000;
    while (deliveries.length < TASKS && Date.now() < done) await new Promise((r) => setTimeout(r, 200));
    const results = await Promise.all([...ids.values()].map((id, n) => clients[n % 2]!.wait(id, 5_000)));
    for (const { task } of results) expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(holdHits).toBe(2);

    // the task list holds each task once, all success
    const listed: Array<{ taskId: string; status: string }> = [];
    for (let page = 1; listed.length < TASKS + 1; page++) {
      const r = await clients[page % 2]!.get(`/v1/tasks?page=${page}&size=100`);
      listed.push(...(r.body.data.tasks as typeof listed));
      if ((r.body.data.tasks as unknown[]).length < 100) break;
    }
    expect(listed).toHaveLength(TASKS);
    expect(new Set(listed.map((t) => t.taskId))).toEqual(new Set(ids.values()));
    expect(listed.every((t) => t.status === 'success')).toBe(true);

    // usage: every task counted and charged once
    const usage = (await clients[0]!.get('/v1/usage')).body.data;
    expect(usage.total.tasks).toBe(TASKS);
    expect(usage.days.reduce((a: number, d: { succeeded: number }) => a + d.succeeded, 0)).toBe(TASKS);
    const charged = results.reduce((a, { task }) => a + (task.reshoot.cost.usd as number), 0);
    expect(usage.total.usd).toBeCloseTo(charged, 6);

    // every output through either API node: the same 1024 px PNG
    for (const [n, { task }] of results.entries()) {
      const link = new URL(task.output[0].url as string);
      const bytes = await Promise.all(
        apis.map(async (a) => {
          const res = await fetch(`${a.url}${link.pathname}${link.search}`);
          expect(res.status, `${task.taskId} on ${a.url}`).toBe(200);
          return Buffer.from(await res.arrayBuffer());
        }),
      );
      expect(bytes[0]!.equals(bytes[1]!)).toBe(true);
      if (n % 10 === 0) {
        const meta = await sharp(bytes[0]).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['png', 1024, 1024]);
      }
    }

    // callbacks: one signed success delivery per task, with its output; one attempt each on record,
    // no attempt number twice. Deliveries settle shortly after the last success.
    const settle = Date.now() + 30_000;
    while (deliveries.length < TASKS && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would arrive within this
    const perTask = new Map<string, Delivery[]>();
    for (const d of deliveries) perTask.set(d.taskId, [...(perTask.get(d.taskId) ?? []), d]);
    expect(deliveries).toHaveLength(TASKS);
    expect(new Set(perTask.keys())).toEqual(new Set(ids.values()));
    for (const d of deliveries) {
      expect(d.status).toBe('success');
      expect(d.output).toHaveLength(1);
      expect(d.signature).toMatch(/^[0-9a-f]{64}$/);
    }
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const attempts = await db.query<{ task_id: string; attempt: number; ok: boolean }>('SELECT task_id, attempt, ok FROM callback_attempts ORDER BY task_id');
      expect(attempts.rows).toHaveLength(TASKS);
      expect(attempts.rows.every((r) => r.attempt === 1 && r.ok)).toBe(true);
      expect(new Set(attempts.rows.map((r) => r.task_id))).toEqual(new Set(ids.values()));
    } finally {
      await db.end();
    }

    // Redis holds finished-job history and nothing else: no job waiting, running, delayed or failed,
    // each render and callback job once among the completed; the upkeep scheduler's next run only
    const connection = { url: redis.url };
    const queues = ['image.reshoot', 'callback.deliver', 'maintenance'].map((n) => new Queue(n, { connection, prefix: 'reshoot' }));
    try {
      const [render, callback, upkeep] = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children', 'failed', 'completed')));
      const open = { waiting: 0, active: 0, delayed: 0, prioritized: 0, paused: 0, 'waiting-children': 0, failed: 0 };
      expect(render).toEqual({ ...open, completed: TASKS });
      expect(callback).toEqual({ ...open, completed: TASKS });
      expect({ ...upkeep, delayed: 0, completed: 0 }).toEqual({ ...open, completed: 0 });
      // the upkeep schedulers' next runs (one delayed job each) are all the maintenance queue holds
      const schedulers = await queues[2]!.getJobSchedulers();
      expect(schedulers.length).toBeGreaterThan(0);
      const next = await queues[2]!.getDelayed();
      expect(next.map((j) => j.name).sort()).toEqual(schedulers.map((s) => s.name).sort());
      expect(next.every((j) => j.repeatJobKey !== undefined)).toBe(true);
      const completed = await queues[0]!.getCompleted(0, TASKS);
      // the held task's job and the one B was rendering were started again after the kills
      const restarted = completed.filter((j) => j.attemptsStarted > 1).map((j) => j.id);
      expect(restarted).toContain(`render.${heldId}`);
      expect(restarted.length).toBeGreaterThanOrEqual(2);
      expect(new Set(completed.map((j) => j.id))).toEqual(new Set([...ids.values()].map((id) => `render.${id}`)));
      // no job hash in Redis beyond those in the completed sets (and the upkeep scheduler's)
      const client = new Redis(redis.url);
      const keys = await client.keys('reshoot:*').finally(() => client.disconnect());
      const jobKeys = keys.filter((k) => /^reshoot:(image\.reshoot|callback\.deliver):(render|callback)\.[^:]+$/.test(k));
      expect(jobKeys).toHaveLength(2 * TASKS);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });
});
