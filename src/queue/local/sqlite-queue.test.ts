import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PermanentTaskError } from '../../errors.js';
import { openDatabase } from '../../store/sqlite/database.js';
import type { Job, JobHandlers } from '../types.js';
import { backoffMs } from '../types.js';
import { createSqliteQueue } from './sqlite-queue.js';

const logger = pino({ level: 'silent' });
const noop = async () => {};

function setup(overrides: { leaseMs?: number; maxAttempts?: number; queue?: string } = {}) {
  const db = openDatabase(':memory:');
  const make = (queue = overrides.queue ?? `q-${Math.random()}`) =>
    createSqliteQueue({ db, logger, queue, leaseMs: overrides.leaseMs ?? 5000, defaultMaxAttempts: overrides.maxAttempts ?? 3, pollMs: 20 });
  return { db, make };
}

const until = async (fn: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('sqlite queue', () => {
  it('runs each job once, in order, and counts depth until done', async () => {
    const { make } = setup();
    const q = make();
    const seen: string[] = [];
    await q.enqueue('image.reshoot', { taskId: 'a' });
    await q.enqueue('image.reshoot', { taskId: 'b' });
    expect(await q.depth('image.reshoot')).toBe(2);
    q.work({ 'image.reshoot': async (job) => void seen.push(job.payload.taskId), 'callback.deliver': noop }, { concurrency: 1 });
    await until(() => seen.length === 2);
    await until(async () => (await q.depth('image.reshoot')) === 0);
    expect(seen).toEqual(['a', 'b']);
    await q.close();
  });

  it('retries a failing job with backoff, then fails it at maxAttempts', async () => {
    const { make, db } = setup({ maxAttempts: 2 });
    const q = make();
    const attempts: number[] = [];
    await q.enqueue('image.reshoot', { taskId: 'x' });
    q.work(
      {
        'image.reshoot': async (job) => {
          attempts.push(job.attempt);
          // Make the retry due at once instead of after the real backoff.
          db.prepare(`UPDATE jobs SET run_at_ms = 0`).run();
          throw new Error('flaky');
        },
        'callback.deliver': noop,
      },
      { concurrency: 1 },
    );
    await until(() => (db.prepare(`SELECT state FROM jobs`).get() as { state: string }).state === 'failed');
    expect(attempts).toEqual([1, 2]);
    await q.close();
  });

  it('does not retry a permanent failure', async () => {
    const { make, db } = setup({ maxAttempts: 5 });
    const q = make();
    let runs = 0;
    await q.enqueue('image.reshoot', { taskId: 'x' });
    q.work({ 'image.reshoot': async () => { runs++; throw new PermanentTaskError('bad input'); }, 'callback.deliver': noop }, { concurrency: 1 });
    await until(() => (db.prepare(`SELECT state FROM jobs`).get() as { state: string }).state === 'failed');
    expect(runs).toBe(1);
    expect((db.prepare(`SELECT last_error FROM jobs`).get() as { last_error: string }).last_error).toBe('bad input');
    await q.close();
  });

  it('a lapsed lease lets another worker take the job over', async () => {
    const { make, db } = setup({ queue: 'shared' });
    const q = make('shared');
    await q.enqueue('image.reshoot', { taskId: 'z' });
    // What a worker that died mid-job leaves behind: the job active, leased to it for a little longer.
    db.prepare(`UPDATE jobs SET state = 'active', attempts = 1, lease_owner = 'dead-worker', lease_until_ms = ?`).run(Date.now() + 300);
    const done: Job[] = [];
    const t0 = Date.now();
    q.work({ 'image.reshoot': async (job) => void done.push(job), 'callback.deliver': noop }, { concurrency: 1 });
    await until(() => done.length === 1, 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(done[0]!.attempt).toBe(2);
    await q.close();
  });

  it('does not start a job twice when its own lease lapsed while the event loop was held', async () => {
    const { make } = setup({ leaseMs: 150 });
    const q = make();
    let runs = 0;
    await q.enqueue('image.reshoot', { taskId: 'busy' });
    q.work(
      {
        'image.reshoot': async () => {
          runs++;
          const end = Date.now() + 400; // hold the event loop past the lease: no heartbeat can run
          while (Date.now() < end);
          await new Promise((r) => setTimeout(r, 300)); // let the claim loop run while still busy
        },
        'callback.deliver': noop,
      },
      { concurrency: 2 },
    );
    await until(async () => (await q.depth('image.reshoot')) === 0);
    expect(runs).toBe(1);
    await q.close();
  });

  it('runs delayed jobs no earlier than asked and respects per-name caps', async () => {
    const { make } = setup();
    const q = make();
    const at: number[] = [];
    const t0 = Date.now();
    await q.enqueue('callback.deliver', { taskId: 't', attempt: 1, firstAttemptMs: t0 }, { delayMs: 150 });
    let inFlight = 0;
    let maxInFlight = 0;
    for (let i = 0; i < 4; i++) await q.enqueue('image.reshoot', { taskId: String(i) });
    const handlers: JobHandlers = {
      'image.reshoot': async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
      },
      'callback.deliver': async () => void at.push(Date.now() - t0),
    };
    q.work(handlers, { concurrency: 5, perName: { 'image.reshoot': 2, 'callback.deliver': 1 } });
    await until(async () => at.length === 1 && (await q.depth('image.reshoot')) === 0);
    expect(at[0]).toBeGreaterThanOrEqual(140);
    expect(maxInFlight).toBe(2);
    await q.close();
  });

  it('close() is idempotent and waits for running jobs', async () => {
    const { make } = setup();
    const q = make();
    let finished = false;
    await q.enqueue('image.reshoot', { taskId: 'w' });
    q.work({ 'image.reshoot': async () => { await new Promise((r) => setTimeout(r, 100)); finished = true; }, 'callback.deliver': noop }, { concurrency: 1 });
    await until(async () => (await q.depth('image.reshoot')) === 1 && !finished);
    await new Promise((r) => setTimeout(r, 30));
    const a = q.close();
    expect(q.close()).toBe(a);
    await a;
    expect(finished).toBe(true);
  });

  it('backoff grows exponentially with jitter and a 60 s cap', () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(4, () => 1)).toBe(8000);
    expect(backoffMs(20, () => 1)).toBe(60000);
  });
});
