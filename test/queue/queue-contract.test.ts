import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PermanentTaskError } from '../../src/errors.js';
import { createBullQueue } from '../../src/queue/bullmq/bullmq-queue.js';
import { createLeasedQueue } from '../../src/queue/leased-queue.js';
import { sqliteJobTable } from '../../src/queue/local/sqlite-queue.js';
import { postgresJobTable } from '../../src/queue/postgres/pg-queue.js';
import type { Job, JobHandlers, JobQueue } from '../../src/queue/types.js';
import { migratePostgres } from '../../src/store/postgres/migrations.js';
import { createPostgresPool } from '../../src/store/postgres/store.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/redis.js';

/**
 * The job queue's behaviour, the same on every backend: the SQLite and Postgres job tables under the
 * leased queue, and BullMQ on a real Redis (started by this file). `make(group)` gives a queue; two
 * made with one group share their jobs (two workers on one queue).
 */
const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown>> = [];
let cluster: TestPostgres | null = null;
let redis: TestRedis | null = null;
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await cluster?.stop();
  await redis?.stop();
});

type Make = (group: string, opts?: { leaseMs?: number; maxAttempts?: number }) => Promise<JobQueue>;
const track = (q: JobQueue) => (cleanups.push(() => q.close(100)), q);

const backends: Array<{ name: string; skip: string | null; make: () => Promise<Make> }> = [
  {
    name: 'sqlite',
    skip: null,
    async make() {
      const db = openDatabase(':memory:');
      cleanups.push(async () => db.close());
      return async (group, o = {}) => track(createLeasedQueue(sqliteJobTable(db), { logger, queue: group, leaseMs: o.leaseMs ?? 5000, defaultMaxAttempts: o.maxAttempts ?? 3, pollMs: 20 }));
    },
  },
  {
    name: 'postgres',
    skip: postgresUnavailable,
    async make() {
      cluster ??= await startPostgres();
      const pool = createPostgresPool(await cluster.createDatabase());
      await migratePostgres(pool);
      cleanups.push(() => pool.end());
      return async (group, o = {}) => track(createLeasedQueue(postgresJobTable(pool), { logger, queue: group, leaseMs: o.leaseMs ?? 5000, defaultMaxAttempts: o.maxAttempts ?? 3, pollMs: 20 }));
    },
  },
  {
    name: 'bullmq',
    skip: redisUnavailable,
    async make() {
      redis ??= await startRedis();
      const url = redis.url;
      return async (group, o = {}) => track(createBullQueue({ url, logger, prefix: `t-${group}`, leaseMs: o.leaseMs ?? 5000, defaultMaxAttempts: o.maxAttempts ?? 3 }));
    },
  },
];

const noop = async () => {};
const until = async (fn: () => boolean | Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
let groups = 0;
const group = () => `g${++groups}-${Math.random().toString(36).slice(2, 6)}`;

for (const backend of backends) {
  describe.skipIf(backend.skip !== null)(`job queue contract: ${backend.name}`, () => {
    let make: Make;
    it('runs each job once and counts depth until done', async () => {
      make = await backend.make();
      const q = await make(group());
      const seen: string[] = [];
      await q.enqueue('image.reshoot', { taskId: 'a' });
      await q.enqueue('image.reshoot', { taskId: 'b' });
      expect(await q.depth('image.reshoot')).toBe(2);
      expect(await q.depth('callback.deliver')).toBe(0);
      q.work({ 'image.reshoot': async (job) => void seen.push(job.payload.taskId), 'callback.deliver': noop }, { concurrency: 1 });
      await until(async () => seen.length === 2 && (await q.depth('image.reshoot')) === 0);
      expect(seen.sort()).toEqual(['a', 'b']);
      await q.close();
    });

    it('retries a failing job with backoff, then fails it at maxAttempts', async () => {
      const q = await make(group(), { maxAttempts: 2 });
      const attempts: Array<{ attempt: number; at: number }> = [];
      await q.enqueue('image.reshoot', { taskId: 'x' });
      const flaky = async (job: Job<'image.reshoot'>) => {
        attempts.push({ attempt: job.attempt, at: Date.now() });
        throw new Error('flaky');
      };
      q.work({ 'image.reshoot': flaky, 'callback.deliver': noop }, { concurrency: 1 });
      await until(async () => attempts.length === 2 && (await q.depth('image.reshoot')) === 0);
      await new Promise((r) => setTimeout(r, 1500));
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
      // the first retry waits 0.5-1 s (backoffMs(1))
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(450);
      await q.close();
    });

    it('does not retry a permanent failure', async () => {
      const q = await make(group(), { maxAttempts: 5 });
      let runs = 0;
      await q.enqueue('image.reshoot', { taskId: 'x' });
      q.work({ 'image.reshoot': async () => { runs++; throw new PermanentTaskError('bad input'); }, 'callback.deliver': noop }, { concurrency: 1 });
      await until(async () => runs === 1 && (await q.depth('image.reshoot')) === 0);
      await new Promise((r) => setTimeout(r, 1500));
      expect(runs).toBe(1);
      await q.close();
    });

    it('runs delayed jobs no earlier than asked and respects per-name caps', async () => {
      const q = await make(group());
      const at: number[] = [];
      const t0 = Date.now();
      await q.enqueue('callback.deliver', { taskId: 't', attempt: 1, firstAttemptMs: t0 }, { delayMs: 300 });
      let inFlight = 0;
      let maxInFlight = 0;
      for (let i = 0; i < 6; i++) await q.enqueue('image.reshoot', { taskId: String(i) });
      const handlers: JobHandlers = {
        'image.reshoot': async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 50));
          inFlight--;
        },
        'callback.deliver': async () => void at.push(Date.now() - t0),
      };
      q.work(handlers, { concurrency: 5, perName: { 'image.reshoot': 2, 'callback.deliver': 1 } });
      await until(async () => at.length === 1 && (await q.depth('image.reshoot')) === 0);
      expect(at[0]).toBeGreaterThanOrEqual(290);
      expect(maxInFlight).toBe(2);
      await q.close();
    });

    it('two workers on one queue run each of 30 jobs exactly once', async () => {
      const g = group();
      const [w1, w2] = [await make(g), await make(g)];
      const runs = new Map<string, number>();
      const handlers: JobHandlers = {
        'image.reshoot': async (job) => {
          runs.set(job.payload.taskId, (runs.get(job.payload.taskId) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 5));
        },
        'callback.deliver': noop,
      };
      for (let i = 0; i < 30; i++) await w1.enqueue('image.reshoot', { taskId: `j${i}` });
      w1.work(handlers, { concurrency: 3 });
      w2.work(handlers, { concurrency: 3 });
      await until(async () => runs.size === 30 && (await w1.depth('image.reshoot')) === 0);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      // finished jobs are kept for inspection until pruned
      expect(await w1.prune(Date.now() + 60_000)).toBeGreaterThanOrEqual(30);
      await Promise.all([w1.close(), w2.close()]);
    });

    it('close() waits for a running job; past its deadline the job is handed back and another worker runs it', async () => {
      const g = group();
      const first = await make(g);
      let finished = false;
      await first.enqueue('image.reshoot', { taskId: 'w' });
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      first.work(
        {
          'image.reshoot': async (_job, signal) => {
            started();
            await new Promise((r) => setTimeout(r, 150));
            if (!signal.aborted) finished = true;
          },
          'callback.deliver': noop,
        },
        { concurrency: 1 },
      );
      await running;
      const a = first.close();
      expect(first.close()).toBe(a);
      await a;
      expect(finished).toBe(true);

      const slow = await make(g);
      await slow.enqueue('image.reshoot', { taskId: 'long' });
      let startedSlow!: () => void;
      const slowRunning = new Promise<void>((r) => (startedSlow = r));
      slow.work(
        {
          'image.reshoot': (_job: Job<'image.reshoot'>, signal: AbortSignal) =>
            new Promise<void>((_, reject) => {
              startedSlow();
              signal.addEventListener('abort', () => reject(new Error('aborted')));
            }),
          'callback.deliver': noop,
        },
        { concurrency: 1 },
      );
      await slowRunning;
      await slow.close(100);
      const next = await make(g);
      const again: Job[] = [];
      next.work({ 'image.reshoot': async (job) => void again.push(job), 'callback.deliver': noop }, { concurrency: 1 });
      await until(() => again.length === 1);
      expect(again[0]!.payload).toEqual({ taskId: 'long' });
      await next.close();
    });
  });
}

describe.skipIf(redisUnavailable !== null)('BullMQ upkeep', () => {
  it('a repeated upkeep job runs once per interval for the whole cluster, not once per worker', async () => {
    redis ??= await startRedis();
    const prefix = `t-${group()}`;
    const nodes = [0, 1, 2].map(() => track(createBullQueue({ url: redis!.url, logger, prefix, leaseMs: 5000, defaultMaxAttempts: 3 })));
    const runs: number[] = [];
    const t0 = Date.now();
    for (const [i, q] of nodes.entries()) q.repeatEvery!('sweep', 400, async () => void runs.push(i));
    await new Promise((r) => setTimeout(r, 3000));
    await Promise.all(nodes.map((q) => q.close()));
    const intervals = (Date.now() - t0) / 400;
    // three workers, but about one run per interval (one more where a worker registered mid-interval)
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(intervals) + 1);
  });
});
