import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeasedQueue, type JobTable } from '../../src/queue/leased-queue.js';
import { sqliteJobTable } from '../../src/queue/local/sqlite-queue.js';
import { postgresJobTable } from '../../src/queue/postgres/pg-queue.js';
import type { JobQueue } from '../../src/queue/types.js';
import { migratePostgres } from '../../src/store/postgres/migrations.js';
import { createPostgresPool, createPostgresStore } from '../../src/store/postgres/store.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { createSqliteStore } from '../../src/store/sqlite/store.js';
import type { NewTask, Store, StoredOutput } from '../../src/store/types.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';

/**
 * One set of cases for every store: the SQLite file the embedded default uses and a real Postgres
 * (a throwaway cluster this file starts). Each case gets a fresh database.
 */
interface Backend {
  store: Store;
  table: JobTable;
}

let cluster: TestPostgres | null = null;
const opened: Array<() => Promise<void>> = [];

const backends: Array<{ name: string; skip: boolean; open: () => Promise<Backend> }> = [
  {
    name: 'sqlite',
    skip: false,
    async open() {
      const db = openDatabase(':memory:');
      const store = createSqliteStore(db);
      opened.push(() => store.close());
      return { store, table: sqliteJobTable(db) };
    },
  },
  {
    name: 'postgres',
    skip: postgresUnavailable !== null,
    async open() {
      cluster ??= await startPostgres();
      const pool = createPostgresPool(await cluster.createDatabase(), { max: 20 });
      await migratePostgres(pool);
      const store = createPostgresStore(pool);
      opened.push(() => store.close());
      return { store, table: postgresJobTable(pool) };
    },
  },
];

afterAll(async () => {
  for (const close of opened) await close().catch(() => {});
  await cluster?.stop();
});

const logger = pino({ level: 'silent' });
let seq = 0;
const task = (over: Partial<NewTask> = {}): NewTask => {
  const created = over.created ?? 1_700_000_000 + seq;
  return {
    id: `tk-hiapi-${String(++seq).padStart(26, '0')}`,
    key_id: 'key_a',
    model: 'studio',
    created,
    storage: 'temp',
    route: null,
    input: '{"prompt":"p"}',
    callback_url: null,
    cost_usd: 0.02,
    engine: 'studio',
    upstream_usd: 0,
    parent_id: null,
    updated_ms: created * 1000,
    ...over,
  };
};
const queueOf = (table: JobTable, name: string): JobQueue => createLeasedQueue(table, { logger, queue: name, leaseMs: 5000, defaultMaxAttempts: 3, pollMs: 20 });
const succeed = (store: Store, id: string, outputs: StoredOutput[], completed = 1_700_000_500) =>
  store.tasks.finish({ id, status: 'success', completed, outputs: JSON.stringify(outputs), error_code: null, error_message: null, reshoot: null, now: completed * 1000 });

for (const backend of backends) {
  describe.skipIf(backend.skip)(`store contract: ${backend.name}`, () => {
    let b: Backend;
    beforeAll(async () => {
      b = await backend.open();
    });

    it('creates a task with its job in one transaction; a failed enqueue leaves neither', async () => {
      const q = queueOf(b.table, 'create');
      const t = task();
      expect(await b.store.tasks.create(t, { enqueue: (tx) => q.enqueueIn(tx, 'image.reshoot', { taskId: t.id }) })).toEqual({ created: true });
      const row = await b.store.tasks.get(t.id);
      expect(row).toMatchObject({ id: t.id, status: 'queued', created: t.created, cost_usd: 0.02, completed: 0, sources: null, seed: null });
      expect(await q.depth('image.reshoot')).toBe(1);

      const doomed = task();
      await expect(
        b.store.tasks.create(doomed, {
          enqueue: (tx) => {
            const id = q.enqueueIn(tx, 'image.reshoot', { taskId: doomed.id });
            if (id instanceof Promise) return id.then(() => Promise.reject(new Error('queue down')));
            throw new Error('queue down');
          },
        }),
      ).rejects.toThrow('queue down');
      expect(await b.store.tasks.get(doomed.id)).toBeUndefined();
      expect(await q.depth('image.reshoot')).toBe(1);
    });

    it('claims an idempotency key once: replay, another body, in flight, abandoned, expired, released', async () => {
      const rules = (nowMs: number) => ({ nowMs, ttlMs: 86_400_000, staleMs: 60_000 });
      const repo = b.store.idempotency;
      const t0 = 1_800_000_000_000;
      expect(await repo.claim('key_a', 'k1', 'h1', rules(t0))).toEqual({ state: 'claimed' });
      // in flight: the same body waits, another body is refused
      expect(await repo.claim('key_a', 'k1', 'h1', rules(t0 + 1000))).toEqual({ state: 'processing' });
      expect(await repo.claim('key_a', 'k1', 'h2', rules(t0 + 1000))).toEqual({ state: 'mismatch' });
      // another key's namespace is separate
      expect(await repo.claim('key_b', 'k1', 'h9', rules(t0))).toEqual({ state: 'claimed' });
      const t = task();
      await b.store.tasks.create(t, { idempotencyKey: 'k1', enqueue: () => undefined });
      expect(await repo.claim('key_a', 'k1', 'h1', rules(t0 + 2000))).toEqual({ state: 'replay', taskId: t.id });
      expect(await repo.claim('key_a', 'k1', 'h2', rules(t0 + 2000))).toEqual({ state: 'mismatch' });
      // past the TTL the key is free again
      expect(await repo.claim('key_a', 'k1', 'h3', rules(t0 + 86_400_001))).toEqual({ state: 'claimed' });
      // an unfinished claim older than the stale limit is taken over
      expect(await repo.claim('key_a', 'k2', 'h1', rules(t0))).toEqual({ state: 'claimed' });
      expect(await repo.claim('key_a', 'k2', 'h1', rules(t0 + 60_001))).toEqual({ state: 'claimed' });
      // a refused request gives its claim back; a finished one is kept
      await repo.release('key_a', 'k2');
      expect(await repo.claim('key_a', 'k2', 'h5', rules(t0 + 60_002))).toEqual({ state: 'claimed' });
      await repo.purge(t0 + 86_400_000);
      expect(await repo.claim('key_b', 'k1', 'h8', rules(t0 + 10))).toEqual({ state: 'claimed' });
    });

    it('concurrent claims of one key: exactly one wins', async () => {
      const nowMs = 1_900_000_000_000;
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => b.store.idempotency.claim('key_c', 'race', 'h', { nowMs, ttlMs: 86_400_000, staleMs: 60_000 })));
      expect(outcomes.filter((o) => o.state === 'claimed')).toHaveLength(1);
      expect(outcomes.filter((o) => o.state === 'processing')).toHaveLength(11);
    });

    it('refuses a create past the budget with nothing written, and concurrent creates cannot overshoot it', async () => {
      const q = queueOf(b.table, 'budget');
      const enqueue = (id: string) => (tx: Parameters<JobQueue['enqueueIn']>[0]) => q.enqueueIn(tx, 'image.reshoot', { taskId: id });
      const first = task({ key_id: 'key_budget', cost_usd: 0.5 });
      expect(await b.store.tasks.create(first, { budgetUsd: 1, enqueue: enqueue(first.id) })).toEqual({ created: true });
      const over = task({ key_id: 'key_budget', cost_usd: 0.6 });
      expect(await b.store.tasks.create(over, { budgetUsd: 1, enqueue: enqueue(over.id) })).toEqual({ created: false, spentUsd: 0.5 });
      expect(await b.store.tasks.get(over.id)).toBeUndefined();
      expect(await q.depth('image.reshoot')).toBe(1);
      // a failed task is not charged
      await b.store.tasks.finish({ id: first.id, status: 'fail', completed: 1, outputs: null, error_code: 'TASK_FAILED', error_message: 'x', reshoot: null, now: 1 });
      expect(await b.store.tasks.spent('key_budget')).toBe(0);

      const racers = Array.from({ length: 10 }, () => task({ key_id: 'key_budget', cost_usd: 0.25 }));
      const results = await Promise.all(racers.map((t) => b.store.tasks.create(t, { budgetUsd: 1, enqueue: enqueue(t.id) })));
      expect(results.filter((r) => r.created)).toHaveLength(4);
      expect(await b.store.tasks.spent('key_budget')).toBeCloseTo(1, 9);
      expect(await q.depth('image.reshoot')).toBe(5);
    });

    it('moves a task forward only while it is not terminal; of two racing finishes one wins', async () => {
      const t = task();
      await b.store.tasks.create(t, { enqueue: () => undefined });
      expect(await b.store.tasks.advance(t.id, 'handling', null, 1)).toBe(true);
      expect(await b.store.tasks.advance(t.id, 'archiving', '{"seed":7}', 2)).toBe(true);
      expect((await b.store.tasks.get(t.id))?.reshoot).toBe('{"seed":7}');
      // a null reshoot keeps what was there
      expect(await b.store.tasks.advance(t.id, 'archiving', null, 3)).toBe(true);
      expect((await b.store.tasks.get(t.id))?.reshoot).toBe('{"seed":7}');
      const [a, c] = await Promise.all([
        succeed(b.store, t.id, [{ key: `tasks/${t.id}/0.png`, expireAt: 1_700_604_800, bytes: 10 }]),
        b.store.tasks.finish({ id: t.id, status: 'fail', completed: 5, outputs: null, error_code: 'TASK_FAILED', error_message: 'late', reshoot: null, now: 5 }),
      ]);
      expect([a, c].filter((r) => r !== null)).toHaveLength(1);
      const winner = (a ?? c)!;
      expect(winner.id).toBe(t.id);
      expect(winner.reshoot).toBe('{"seed":7}');
      expect(await b.store.tasks.advance(t.id, 'handling', null, 6)).toBe(false);
      expect(await succeed(b.store, t.id, [])).toBeNull();
      await b.store.tasks.recordRun(t.id, '["sources/a.png"]', 42);
      // queued and untouched: what the reconciler of a queue outside the database looks at
      const waiting = [task({ updated_ms: 1000 }), task({ updated_ms: 2000 }), task({ updated_ms: 9000 })];
      for (const w of waiting) await b.store.tasks.create(w, { enqueue: () => undefined });
      await b.store.tasks.advance(waiting[1]!.id, 'handling', null, 2500);
      expect(await b.store.tasks.queuedBefore(5000, 10)).toEqual([waiting[0]!.id]);
      expect(await b.store.tasks.queuedBefore(10_000, 10)).toEqual([waiting[0]!.id, waiting[2]!.id]);
      expect(await b.store.tasks.queuedBefore(10_000, 1)).toEqual([waiting[0]!.id]);
      expect(await b.store.tasks.get(t.id)).toMatchObject({ sources: '["sources/a.png"]', seed: 42 });
    });

    it('keeps the upstream\'s task on a task until it is terminal, and through a reopen of the row', async () => {
      const t = task();
      await b.store.tasks.create(t, { enqueue: () => undefined });
      expect((await b.store.tasks.get(t.id))?.upstream).toBeNull();
      await b.store.tasks.advance(t.id, 'handling', null, 1);
      expect(await b.store.tasks.recordUpstream(t.id, '{"engine":"hiapi","taskId":"tk-up-1"}')).toBe(true);
      expect((await b.store.tasks.get(t.id))?.upstream).toBe('{"engine":"hiapi","taskId":"tk-up-1"}');
      // a later run that created again (the engine changed) replaces it
      expect(await b.store.tasks.recordUpstream(t.id, '{"engine":"comfyui","taskId":"p-2"}')).toBe(true);
      expect((await b.store.tasks.getOwned(t.id, 'key_a'))?.upstream).toBe('{"engine":"comfyui","taskId":"p-2"}');
      await b.store.tasks.finish({ id: t.id, status: 'fail', completed: 1, outputs: null, error_code: 'TASK_TIMEOUT', error_message: 'late', reshoot: null, now: 1 });
      // a finished task keeps the one it had (the operator's lead to the upstream) and takes no other
      expect(await b.store.tasks.recordUpstream(t.id, '{"engine":"hiapi","taskId":"tk-late"}')).toBe(false);
      expect((await b.store.tasks.get(t.id))?.upstream).toBe('{"engine":"comfyui","taskId":"p-2"}');
      expect(await b.store.tasks.recordUpstream('tk-hiapi-none', '{}')).toBe(false);
    });

    it('records the upstream\'s callback once: marked, then again (concurrent ones too), finished once terminal, unknown for no task', async () => {
      const t = task();
      await b.store.tasks.create(t, { enqueue: () => undefined });
      expect(await b.store.tasks.upstreamFinal(t.id)).toBeNull();
      expect((await b.store.tasks.get(t.id))?.upstream_final).toBeNull();
      const both = await Promise.all([b.store.tasks.markUpstreamFinal(t.id, 1_700_000_000_123), b.store.tasks.markUpstreamFinal(t.id, 1_700_000_000_456)]);
      expect(both.sort()).toEqual(['again', 'marked']);
      const at = await b.store.tasks.upstreamFinal(t.id);
      expect([1_700_000_000_123, 1_700_000_000_456]).toContain(at);
      expect(await b.store.tasks.markUpstreamFinal(t.id, 1_700_000_000_789)).toBe('again');
      expect(await b.store.tasks.upstreamFinal(t.id)).toBe(at);
      // the first upstream task stored (a callback may beat it) and the same one again keep the record
      expect(await b.store.tasks.recordUpstream(t.id, '{"engine":"hiapi","taskId":"tk-up-1"}')).toBe(true);
      expect(await b.store.tasks.recordUpstream(t.id, '{"engine":"hiapi","taskId":"tk-up-1"}')).toBe(true);
      expect(await b.store.tasks.upstreamFinal(t.id)).toBe(at);
      // another one (the upstream forgot the first: created again) has had no callback yet
      expect(await b.store.tasks.recordUpstream(t.id, '{"engine":"hiapi","taskId":"tk-up-2"}')).toBe(true);
      expect(await b.store.tasks.upstreamFinal(t.id)).toBeNull();
      expect(await b.store.tasks.markUpstreamFinal(t.id, 1_700_000_000_900)).toBe('marked');
      await b.store.tasks.finish({ id: t.id, status: 'success', completed: 1, outputs: '[]', error_code: null, error_message: null, reshoot: null, now: 1 });
      expect(await b.store.tasks.markUpstreamFinal(t.id, 1_700_000_001_000)).toBe('finished');
      expect(await b.store.tasks.markUpstreamFinal('tk-hiapi-none', 1)).toBe('unknown');
      expect(await b.store.tasks.upstreamFinal('tk-hiapi-none')).toBeNull();
    });

    it('lists a key\'s tasks newest first with a count, and reports usage by UTC day, model and engine', async () => {
      const mine = [
        task({ key_id: 'key_list', created: 1_700_000_000 }),
        task({ key_id: 'key_list', created: 1_700_090_000, model: 'pro' }),
        task({ key_id: 'key_list', created: 1_700_090_001 }),
        task({ key_id: 'key_list', created: 1_700_090_002, engine: 'hiapi', route: 'hiapi', cost_usd: 0.06, upstream_usd: 0.05 }),
        task({ key_id: 'key_list', created: 1_700_090_003, engine: 'hiapi', route: 'hiapi', cost_usd: 0.06, upstream_usd: 0.05 }),
      ];
      for (const t of mine) await b.store.tasks.create(t, { enqueue: () => undefined });
      expect(await b.store.tasks.get(mine[3]!.id)).toMatchObject({ engine: 'hiapi', upstream_usd: 0.05, cost_usd: 0.06 });
      // a failed generative task is charged nothing, the upstream's part included
      await b.store.tasks.finish({ id: mine[4]!.id, status: 'fail', completed: 1, outputs: null, error_code: 'TASK_TIMEOUT', error_message: 'x', reshoot: null, now: 1 });
      await b.store.tasks.create(task({ key_id: 'key_other' }), { enqueue: () => undefined });
      await b.store.tasks.finish({ id: mine[2]!.id, status: 'fail', completed: 1, outputs: null, error_code: 'X', error_message: 'x', reshoot: null, now: 1 });
      expect((await b.store.tasks.list('key_list', 2, 2)).map((r) => r.id)).toEqual([mine[2]!.id, mine[1]!.id]);
      expect((await b.store.tasks.list('key_list', 2, 4)).map((r) => r.id)).toEqual([mine[0]!.id]);
      expect(await b.store.tasks.count('key_list')).toBe(5);
      expect(await b.store.tasks.getOwned(mine[0]!.id, 'key_other')).toBeUndefined();
      expect((await b.store.tasks.getOwned(mine[0]!.id, 'key_list'))?.id).toBe(mine[0]!.id);
      expect(await b.store.tasks.usage('key_list', 1_699_999_999, 1_800_000_000)).toEqual([
        { day: '2023-11-14', model: 'studio', engine: 'studio', tasks: 1, succeeded: 0, failed: 0, usd: 0.02, upstream_usd: 0 },
        { day: '2023-11-15', model: 'pro', engine: 'studio', tasks: 1, succeeded: 0, failed: 0, usd: 0.02, upstream_usd: 0 },
        { day: '2023-11-15', model: 'studio', engine: 'hiapi', tasks: 2, succeeded: 0, failed: 1, usd: 0.06, upstream_usd: 0.05 },
        { day: '2023-11-15', model: 'studio', engine: 'studio', tasks: 1, succeeded: 0, failed: 1, usd: 0, upstream_usd: 0 },
      ]);
      const byStatus = Object.fromEntries((await b.store.tasks.countByStatus()).map((r) => [r.status, r.n]));
      expect(byStatus.fail).toBeGreaterThanOrEqual(1);
      expect(typeof byStatus.queued).toBe('number');
    });

    it('keeps keys by hash: insert-if-absent keeps the first, revoke once, counts stored keys', async () => {
      const row = { id: 'key_1', name: 'one', prefix: 'sk-abcd', webhook_secret: null, budget_usd: 2.5, source: 'db' as const, created: 100, revoked: null, hash: 'h1' };
      await b.store.keys.insert(row);
      await b.store.keys.insert({ ...row, id: 'key_env', name: 'env', source: 'env', hash: 'h2', budget_usd: null }, { ifAbsent: true });
      await b.store.keys.insert({ ...row, id: 'key_env_again', name: 'env', source: 'env', hash: 'h2' }, { ifAbsent: true });
      await expect(b.store.keys.insert({ ...row, id: 'key_dup' })).rejects.toThrow();
      expect(await b.store.keys.byHash('h2')).toMatchObject({ id: 'key_env', source: 'env' });
      expect(await b.store.keys.byId('key_1')).toMatchObject({ id: 'key_1', name: 'one', prefix: 'sk-abcd', webhook_secret: null, budget_usd: 2.5, source: 'db', created: 100, revoked: null });
      expect((await b.store.keys.list()).map((k) => k.id)).toEqual(['key_1', 'key_env']);
      expect(await b.store.keys.activeCount()).toBe(1);
      expect(await b.store.keys.revoke('key_1', 200)).toBe(true);
      expect(await b.store.keys.revoke('key_1', 300)).toBe(false);
      expect((await b.store.keys.byId('key_1'))?.revoked).toBe(200);
      expect(await b.store.keys.activeCount()).toBe(0);
    });

    it('records callback attempts (a repeated attempt replaces its row), settings (the first value stays), uploads', async () => {
      await b.store.callbacks.record({ taskId: 't1', attempt: 1, atMs: 10, statusCode: 500, error: null, ok: false });
      await b.store.callbacks.record({ taskId: 't1', attempt: 1, atMs: 11, statusCode: 204, error: null, ok: true });
      await b.store.callbacks.record({ taskId: 't1', attempt: 2, atMs: 12, statusCode: null, error: 'timeout', ok: false });
      expect(await b.store.callbacks.list('t1')).toEqual([
        { taskId: 't1', attempt: 1, atMs: 11, statusCode: 204, error: null, ok: true },
        { taskId: 't1', attempt: 2, atMs: 12, statusCode: null, error: 'timeout', ok: false },
      ]);
      expect(await b.store.settings.getOrInit('secret', 'first')).toBe('first');
      expect(await b.store.settings.getOrInit('secret', 'second')).toBe('first');

      await b.store.uploads.insert({ id: 'up_1', key_id: 'key_a', blob: 'uploads/up_1.png', mime: 'image/png', bytes: 5, created: 1000 });
      await b.store.uploads.insert({ id: 'up_2', key_id: 'key_a', blob: 'uploads/up_2.png', mime: 'image/png', bytes: 5, created: 5000 });
      expect(await b.store.sweep.uploadKnown('uploads/up_1.png')).toBe(true);
      expect(await b.store.sweep.expiredUploads(2000)).toEqual([{ id: 'up_1', blob: 'uploads/up_1.png' }]);
      await b.store.sweep.markUploadSwept('up_1');
      expect(await b.store.sweep.expiredUploads(2000)).toEqual([]);
      await b.store.uploads.remove('up_2');
      expect(await b.store.sweep.uploadKnown('uploads/up_2.png')).toBe(false);
    });

    it('lists, sizes and edits outputs; the sweep finds expired tasks and the sources still in use', async () => {
      const k = 'key_out';
      const [a, c] = [task({ key_id: k }), task({ key_id: k })];
      for (const t of [a, c]) await b.store.tasks.create(t, { enqueue: () => undefined });
      await succeed(b.store, a.id, [{ key: 'a0', expireAt: 2000, bytes: 100 }, { key: 'a1', expireAt: 9000, bytes: 50, persistent: true }], 1000);
      await succeed(b.store, c.id, [{ key: 'c0', expireAt: 5000, bytes: 70 }], 1500);
      // at 3000 a's temp output has expired; c's and a's persistent one are listed, newest task first
      const listed = await b.store.outputs.list(k, 3000, 10, 0);
      expect(listed.map((o) => `${o.taskId === a.id ? 'a' : 'c'}.${o.index}:${o.output.key}`)).toEqual(['c.0:c0', 'a.1:a1']);
      expect(await b.store.outputs.count(k, 3000)).toBe(2);
      expect(await b.store.outputs.list(k, 3000, 1, 1)).toHaveLength(1);
      expect(await b.store.outputs.persistentBytes(k)).toBe(50);
      expect(await b.store.outputs.owned(a.id, 'key_other')).toBeNull();
      expect((await b.store.outputs.owned(a.id, k))?.map((o) => o.key)).toEqual(['a0', 'a1']);
      // promote c.0: the task becomes persistent
      expect(await b.store.outputs.edit(c.id, k, (outs) => ((outs[0]!.persistent = true), true))).toBe(true);
      expect(await b.store.outputs.persistentBytes(k)).toBe(120);
      expect((await b.store.tasks.get(c.id))?.storage).toBe('persistent');
      // an edit that declines writes nothing; edits of one task from two requests both land
      expect(await b.store.outputs.edit(c.id, k, () => false)).toBe(false);
      await Promise.all([
        b.store.outputs.edit(a.id, k, (outs) => ((outs[0]!.deleted = true), true)),
        b.store.outputs.edit(a.id, k, (outs) => ((outs[1]!.bytes = 60), true)),
      ]);
      expect(await b.store.outputs.owned(a.id, k)).toEqual([{ key: 'a0', expireAt: 2000, bytes: 100, deleted: true }, { key: 'a1', expireAt: 9000, bytes: 60, persistent: true }]);

      // sweep: completed before the cutoff, unswept
      const expired = await b.store.sweep.expiredTasks(1200);
      expect(expired.map((e) => e.id)).toContain(a.id);
      expect(expired.map((e) => e.id)).not.toContain(c.id);
      expect(expired.find((e) => e.id === a.id)?.outputs).toHaveLength(2);

      // sources: a successful task's, and a parent's while its child is unfinished
      const parent = task({ key_id: k });
      await b.store.tasks.create(parent, { enqueue: () => undefined });
      await b.store.tasks.recordRun(parent.id, '["sources/p.png"]', 1);
      await succeed(b.store, parent.id, [{ key: 'p0', expireAt: 10, bytes: 1 }], 5);
      const child = task({ key_id: k, parent_id: parent.id });
      await b.store.tasks.create(child, { enqueue: () => undefined });
      await b.store.sweep.markTaskSwept(parent.id);
      expect(await b.store.sweep.liveSources()).toContain('sources/p.png');
      await b.store.tasks.finish({ id: child.id, status: 'fail', completed: 6, outputs: null, error_code: 'X', error_message: 'x', reshoot: null, now: 6 });
      expect(await b.store.sweep.liveSources()).not.toContain('sources/p.png');
      await b.store.sweep.markTaskSwept(a.id);
      expect((await b.store.sweep.expiredTasks(1200)).map((e) => e.id)).not.toContain(a.id);
      await b.store.ping();
    });

    it('job queue on the store: two workers run each of 30 jobs exactly once; finished jobs are pruned', async () => {
      const name = `race-${backend.name}`;
      const [w1, w2] = [queueOf(b.table, name), queueOf(b.table, name)];
      const runs = new Map<string, number>();
      const handlers = {
        'image.reshoot': async (job: { payload: { taskId: string } }) => {
          runs.set(job.payload.taskId, (runs.get(job.payload.taskId) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 5));
        },
        'callback.deliver': async () => {},
      };
      for (let i = 0; i < 30; i++) await w1.enqueue('image.reshoot', { taskId: `j${i}` });
      w1.work(handlers, { concurrency: 3 });
      w2.work(handlers, { concurrency: 3 });
      const end = Date.now() + 20_000;
      while ((await w1.depth('image.reshoot')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      await Promise.all([w1.close(), w2.close()]);
      expect(runs.size).toBe(30);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(await w1.prune(Date.now() + 1000)).toBeGreaterThanOrEqual(30);
    });
  });
}

