import { createHash } from 'node:crypto';
import { newTaskId } from '../contract/ids.js';
import { type ReshootExtension, type TaskList, type TaskObject, type TaskStatus } from '../contract/task.js';
import type { CreateTaskRequest, TaskInput } from '../contract/validate.js';
import { AppError, type TaskErrorCode } from '../errors.js';
import type { JobQueue } from '../queue/types.js';
import { JOB } from '../queue/types.js';
import type { UrlSigner } from '../store/blobs/signed-urls.js';
import type { Db } from '../store/sqlite/database.js';
import type { Pricing } from './pricing.js';

/** A stored output: the blob key and when its link expires. */
export interface StoredOutput {
  key: string;
  expireAt: number;
  /** the file's size (absent on outputs stored before sizes were kept) */
  bytes?: number;
  /** kept until deleted (storage: persistent, or promoted); its link is signed to PERSISTENT_EXPIRE_AT */
  persistent?: true;
  /** deleted through /v1/storages/delete: its file is gone */
  deleted?: true;
}

/** The `expireAt` of a persistent output: 2100-01-01T00:00:00Z, so clients that compare it keep it. */
export const PERSISTENT_EXPIRE_AT = 4_102_444_800;

export interface TaskRow {
  id: string;
  key_id: string;
  model: string;
  status: TaskStatus;
  created: number;
  completed: number;
  storage: 'temp' | 'persistent';
  route: string | null;
  input: string;
  callback_url: string | null;
  outputs: string | null;
  error_code: string | null;
  error_message: string | null;
  reshoot: string | null;
  cost_usd: number;
  parent_id: string | null;
  /** JSON array of blob keys: the references this task rendered from (kept for later turns) */
  sources: string | null;
  seed: number | null;
}

/** What the worker needs to run a task. */
export interface StoredTaskInput extends TaskInput {
  tier: 'standard' | 'pro';
}

export interface CreateResult {
  taskId: string;
  replay: boolean;
}

export interface TaskServiceDeps {
  db: Db;
  queue: JobQueue;
  signer: UrlSigner;
  pricing: Pricing;
  maxQueueDepth: number;
  outputTtlSeconds: number;
  idempotencyTtlSeconds: number;
  nowMs?: () => number;
}

export interface TaskService {
  /**
   * Creates a task. When `input_urls[0]` is an output of one of the caller's own tasks, the new task
   * is the next turn of that one (its parent).
   */
  create(keyId: string, req: CreateTaskRequest, opts?: { idempotencyKey?: string; rawBody?: Buffer | string; budgetUsd?: number | null; parentId?: string | null }): CreateResult;
  get(keyId: string, taskId: string): TaskObject;
  list(keyId: string, page: number, size: number): TaskList;
  /** worker side: the row regardless of owner */
  load(taskId: string): TaskRow | undefined;
  toObject(row: TaskRow): TaskObject;
  /** remembers what a task rendered from, so later turns and scene_from can start from it */
  recordRun(taskId: string, sources: string[], seed: number): void;
  /** moves a non-terminal task forward; returns false if it was already terminal */
  advance(taskId: string, status: 'handling' | 'archiving', reshoot?: ReshootExtension): boolean;
  /** stores the outputs (blob keys); their links expire `outputTtlSeconds` after completion (D8) */
  succeed(taskId: string, outputs: Array<{ key: string; bytes: number }>, reshoot: ReshootExtension): TaskRow | null;
  fail(taskId: string, code: TaskErrorCode, message: string, reshoot?: ReshootExtension): TaskRow | null;
  countByStatus(): Record<string, number>;
  usage(keyId: string, fromSec: number, toSec: number): UsageReport;
  /** USD this key has been charged in all (failed tasks are not charged) */
  spent(keyId: string): number;
}

export interface UsageReport {
  from: number;
  to: number;
  total: { tasks: number; usd: number };
  days: Array<{ day: string; model: string; tasks: number; succeeded: number; failed: number; usd: number }>;
}

/** Seconds a `processing` idempotency claim is honoured before it is taken as abandoned (crash mid-create). */
const CLAIM_STALE_MS = 60_000;

export const hashBody = (raw: Buffer | string): string => createHash('sha256').update(raw).digest('hex');

export function createTaskService(deps: TaskServiceDeps): TaskService {
  const { db, queue, signer, pricing } = deps;
  const nowMs = deps.nowMs ?? Date.now;
  const nowSec = () => Math.floor(nowMs() / 1000);

  const stmt = {
    idemGet: db.prepare(`SELECT body_hash, task_id, created_ms FROM idempotency WHERE key_id = ? AND idem_key = ?`),
    idemClaim: db.prepare(`INSERT OR REPLACE INTO idempotency (key_id, idem_key, body_hash, task_id, created_ms) VALUES (?, ?, ?, NULL, ?)`),
    idemDone: db.prepare(`UPDATE idempotency SET task_id = ? WHERE key_id = ? AND idem_key = ?`),
    idemDrop: db.prepare(`DELETE FROM idempotency WHERE key_id = ? AND idem_key = ? AND task_id IS NULL`),
    idemPurge: db.prepare(`DELETE FROM idempotency WHERE created_ms < ?`),
    insert: db.prepare(
      `INSERT INTO tasks (id, key_id, model, status, created, storage, route, input, callback_url, cost_usd, parent_id, updated_ms)
       VALUES (@id, @key_id, @model, 'queued', @created, @storage, @route, @input, @callback_url, @cost_usd, @parent_id, @updated_ms)`,
    ),
    get: db.prepare(`SELECT * FROM tasks WHERE id = ?`),
    getOwned: db.prepare(`SELECT * FROM tasks WHERE id = ? AND key_id = ?`),
    list: db.prepare(`SELECT * FROM tasks WHERE key_id = ? ORDER BY created DESC, id DESC LIMIT ? OFFSET ?`),
    count: db.prepare(`SELECT count(*) AS n FROM tasks WHERE key_id = ?`),
    advance: db.prepare(`UPDATE tasks SET status = @status, reshoot = coalesce(@reshoot, reshoot), updated_ms = @now WHERE id = @id AND status NOT IN ('success', 'fail')`),
    finish: db.prepare(
      `UPDATE tasks SET status = @status, completed = @completed, outputs = @outputs, error_code = @error_code, error_message = @error_message,
              reshoot = coalesce(@reshoot, reshoot), updated_ms = @now
       WHERE id = @id AND status NOT IN ('success', 'fail') RETURNING *`,
    ),
    recordRun: db.prepare(`UPDATE tasks SET sources = ?, seed = ? WHERE id = ?`),
    byStatus: db.prepare(`SELECT status, count(*) AS n FROM tasks GROUP BY status`),
    spent: db.prepare(`SELECT coalesce(sum(cost_usd), 0) AS usd FROM tasks WHERE key_id = ? AND status != 'fail'`),
    usage: db.prepare(
      `SELECT date(created, 'unixepoch') AS day, model, count(*) AS tasks,
              sum(status = 'success') AS succeeded, sum(status = 'fail') AS failed,
              coalesce(sum(CASE WHEN status = 'fail' THEN 0 ELSE cost_usd END), 0) AS usd
       FROM tasks WHERE key_id = ? AND created >= ? AND created < ?
       GROUP BY day, model ORDER BY day, model`,
    ),
  };

  /** The task whose output this URL is, if it is one of ours, still valid, and the caller's. */
  function parentOf(keyId: string, url: string | undefined): string | null {
    const key = url ? signer.ownKey(url) : null;
    const m = key ? /^tasks\/(tk-hiapi-[0-9A-Z]{26})\//.exec(key) : null;
    if (!m) return null;
    const parent = stmt.getOwned.get(m[1], keyId) as TaskRow | undefined;
    return parent ? parent.id : null;
  }

  function toObject(row: TaskRow): TaskObject {
    const obj: TaskObject = {
      taskId: row.id,
      model: row.route ? `${row.model}@${row.route}` : row.model,
      status: row.status,
      created: row.created,
      completed: row.completed,
      storage: row.storage,
    };
    if (row.route) obj.route = row.route;
    if (row.status === 'success') {
      const outs = JSON.parse(row.outputs ?? '[]') as StoredOutput[];
      obj.output = outs.map((o) => ({ url: signer.sign(o.key, o.expireAt), type: 'image', expireAt: o.expireAt }));
    }
    if (row.status === 'fail') obj.error = { code: row.error_code ?? 'TASK_FAILED', message: row.error_message ?? 'task failed' };
    const ext: ReshootExtension = row.reshoot ? (JSON.parse(row.reshoot) as ReshootExtension) : {};
    ext.cost = { usd: row.status === 'fail' ? 0 : row.cost_usd, model: row.model };
    obj.reshoot = ext;
    return obj;
  }

  const createTx = db.transaction(
    (keyId: string, req: CreateTaskRequest, idem: { key: string; hash: string } | null, cost: number, parentId: string | null): string => {
      const t = nowMs();
      const id = newTaskId(t);
      const stored: StoredTaskInput = { ...req.input, tier: req.spec.tier };
      stmt.insert.run({
        id,
        key_id: keyId,
        model: req.modelName,
        created: Math.floor(t / 1000),
        storage: req.storage,
        route: req.route ?? null,
        input: JSON.stringify(stored),
        callback_url: req.callback?.url ?? null,
        cost_usd: cost,
        parent_id: parentId,
        updated_ms: t,
      });
      queue.enqueue(JOB.reshoot, { taskId: id });
      if (idem) stmt.idemDone.run(id, keyId, idem.key);
      return id;
    },
  );

  /** Claims an idempotency key or answers from it: replay, 409 in flight, 422 other body. */
  const claimTx = db.transaction((keyId: string, key: string, hash: string): CreateResult | null => {
    const t = nowMs();
    const row = stmt.idemGet.get(keyId, key) as { body_hash: string; task_id: string | null; created_ms: number } | undefined;
    const live = row && row.created_ms >= t - deps.idempotencyTtlSeconds * 1000;
    if (row && live) {
      if (row.body_hash !== hash) throw new AppError('IDEMPOTENCY_KEY_MISMATCH');
      if (row.task_id) return { taskId: row.task_id, replay: true };
      if (row.created_ms >= t - CLAIM_STALE_MS) throw new AppError('IDEMPOTENCY_KEY_PROCESSING', undefined, { retryAfter: 5 });
    }
    stmt.idemClaim.run(keyId, key, hash, t);
    return null;
  });

  /**
   * The terminal transition, or null when the task was already terminal. all(), not get(): a
   * statement with RETURNING commits when it runs to completion, so a commit that fails (a full disk)
   * throws here instead of returning a row that was never saved.
   */
  const finish = (params: Record<string, unknown>): TaskRow | null => (stmt.finish.all(params) as TaskRow[])[0] ?? null;

  let lastPurge = 0;
  // Queue depth is read at most every 250 ms (a count over the jobs table is O(depth)); creates in
  // between add to it. Load shedding only needs an approximate figure.
  let depth = { value: 0, at: -Infinity };
  const queueDepth = () => {
    const t = nowMs();
    if (t - depth.at > 250) depth = { value: queue.depth(JOB.reshoot), at: t };
    return depth.value;
  };

  return {
    create(keyId, req, opts = {}) {
      const t = nowMs();
      if (t - lastPurge > 60_000) {
        lastPurge = t;
        stmt.idemPurge.run(t - deps.idempotencyTtlSeconds * 1000);
      }
      let idem: { key: string; hash: string } | null = null;
      if (opts.idempotencyKey !== undefined) {
        idem = { key: opts.idempotencyKey, hash: hashBody(opts.rawBody ?? '') };
        const answered = claimTx.immediate(keyId, idem.key, idem.hash);
        if (answered) return answered;
      }
      try {
        const parentId = opts.parentId ?? parentOf(keyId, req.input.input_urls[0]);
        if (req.input.scene_from !== undefined) {
          const from = stmt.getOwned.get(req.input.scene_from, keyId) as TaskRow | undefined;
          if (!from) throw new AppError('INVALID_REQUEST', `input.scene_from: task ${req.input.scene_from} not found`);
          if (from.status !== 'success') {
            throw new AppError('INVALID_REQUEST', `input.scene_from: task ${req.input.scene_from} has status ${from.status}; only a successful task's scene can be reused`);
          }
        }
        // Refusals come before anything is created or charged (contract §7.4).
        if (queueDepth() >= deps.maxQueueDepth) {
          throw new AppError('SERVICE_UNAVAILABLE', 'the task queue is full; retry later', { retryAfter: 10 });
        }
        const cost = pricing.price(req.modelName, req.input as unknown as Record<string, unknown>);
        if (opts.budgetUsd != null && cost > 0) {
          const spent = (stmt.spent.get(keyId) as { usd: number }).usd;
          if (spent + cost > opts.budgetUsd + 1e-9) {
            throw new AppError(
              'INSUFFICIENT_BALANCE',
              `budget exceeded: this key has spent $${spent.toFixed(2)} of its $${opts.budgetUsd.toFixed(2)} budget and this task costs $${cost.toFixed(2)}; nothing was created or charged`,
            );
          }
        }
        const taskId = createTx.immediate(keyId, req, idem, cost, parentId);
        depth.value++;
        return { taskId, replay: false };
      } catch (err) {
        // A rejected request does not use up the key (D11).
        if (idem) stmt.idemDrop.run(keyId, idem.key);
        throw err;
      }
    },
    get(keyId, taskId) {
      const row = stmt.getOwned.get(taskId, keyId) as TaskRow | undefined;
      if (!row) throw new AppError('NOT_FOUND', `task ${taskId} not found`);
      return toObject(row);
    },
    list(keyId, page, size) {
      const rows = stmt.list.all(keyId, size, (page - 1) * size) as TaskRow[];
      const total = (stmt.count.get(keyId) as { n: number }).n;
      return { page, size, total, tasks: rows.map(toObject) };
    },
    load: (taskId) => stmt.get.get(taskId) as TaskRow | undefined,
    recordRun(taskId, sources, seed) {
      stmt.recordRun.run(JSON.stringify(sources), seed, taskId);
    },
    toObject,
    advance(taskId, status, reshoot) {
      return stmt.advance.run({ id: taskId, status, reshoot: reshoot ? JSON.stringify(reshoot) : null, now: nowMs() }).changes > 0;
    },
    succeed(taskId, files, reshoot) {
      const completed = nowSec();
      const persistent = (stmt.get.get(taskId) as TaskRow | undefined)?.storage === 'persistent';
      const outputs: StoredOutput[] = files.map(({ key, bytes }) =>
        persistent ? { key, bytes, expireAt: PERSISTENT_EXPIRE_AT, persistent: true } : { key, bytes, expireAt: completed + deps.outputTtlSeconds },
      );
      return finish({
        id: taskId,
        status: 'success',
        completed,
        outputs: JSON.stringify(outputs),
        error_code: null,
        error_message: null,
        reshoot: JSON.stringify(reshoot),
        now: nowMs(),
      });
    },
    fail(taskId, code, message, reshoot) {
      return finish({
        id: taskId,
        status: 'fail',
        completed: nowSec(),
        outputs: null,
        error_code: code,
        error_message: message,
        reshoot: reshoot ? JSON.stringify(reshoot) : null,
        now: nowMs(),
      });
    },
    countByStatus() {
      const out: Record<string, number> = { queued: 0, handling: 0, archiving: 0, success: 0, fail: 0 };
      for (const r of stmt.byStatus.all() as Array<{ status: string; n: number }>) out[r.status] = r.n;
      return out;
    },
    spent: (keyId) => (stmt.spent.get(keyId) as { usd: number }).usd,
    usage(keyId, fromSec, toSec) {
      const days = (stmt.usage.all(keyId, fromSec, toSec) as UsageReport['days']).map((d) => ({ ...d, usd: round(d.usd) }));
      return {
        from: fromSec,
        to: toSec,
        total: { tasks: days.reduce((a, d) => a + d.tasks, 0), usd: round(days.reduce((a, d) => a + d.usd, 0)) },
        days,
      };
    },
  };
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
