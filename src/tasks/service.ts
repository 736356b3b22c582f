import { createHash } from 'node:crypto';
import { newTaskId } from '../contract/ids.js';
import { type ReshootExtension, type TaskList, type TaskObject } from '../contract/task.js';
import type { CreateTaskRequest, TaskInput } from '../contract/validate.js';
import { AppError, type TaskErrorCode } from '../errors.js';
import type { JobQueue } from '../queue/types.js';
import { JOB } from '../queue/types.js';
import type { UrlSigner } from '../store/blobs/signed-urls.js';
import type { Finish, Store, StoredOutput, TaskRow } from '../store/types.js';
import type { Pricing } from './pricing.js';

export type { StoredOutput, TaskRow } from '../store/types.js';

/** The `expireAt` of a persistent output: 2100-01-01T00:00:00Z, so clients that compare it keep it. */
export const PERSISTENT_EXPIRE_AT = 4_102_444_800;

/** What the worker needs to run a task. */
export interface StoredTaskInput extends TaskInput {
  tier: 'standard' | 'pro';
}

/** The generative upstream's task a run created, kept on the task (TaskRow.upstream). */
export interface StoredUpstream {
  engine: string;
  taskId: string;
}

/** The upstream task stored on a task row, if any. */
export function storedUpstream(row: Pick<TaskRow, 'upstream'>): StoredUpstream | undefined {
  if (!row.upstream) return undefined;
  const u = JSON.parse(row.upstream) as Partial<StoredUpstream>;
  return typeof u.engine === 'string' && typeof u.taskId === 'string' && u.taskId ? { engine: u.engine, taskId: u.taskId } : undefined;
}

export interface CreateResult {
  taskId: string;
  replay: boolean;
}

export interface TaskServiceDeps {
  store: Store;
  queue: JobQueue;
  signer: UrlSigner;
  pricing: Pricing;
  maxQueueDepth: number;
  outputTtlSeconds: number;
  idempotencyTtlSeconds: number;
  nowMs?: () => number;
  /** hears a job that could not be added after its task was committed (a queue outside the database) */
  onEnqueueError?: (taskId: string, err: unknown) => void;
}

export interface TaskService {
  /**
   * Creates a task. When `input_urls[0]` is an output of one of the caller's own tasks, the new task
   * is the next turn of that one (its parent).
   */
  create(keyId: string, req: CreateTaskRequest, opts?: { idempotencyKey?: string; rawBody?: Buffer | string; budgetUsd?: number | null; parentId?: string | null }): Promise<CreateResult>;
  get(keyId: string, taskId: string): Promise<TaskObject>;
  list(keyId: string, page: number, size: number): Promise<TaskList>;
  /** worker side: the row regardless of owner */
  load(taskId: string): Promise<TaskRow | undefined>;
  toObject(row: TaskRow): TaskObject;
  /** remembers what a task rendered from, so later turns and scene_from can start from it */
  recordRun(taskId: string, sources: string[], seed: number): Promise<void>;
  /** stores the generative upstream's task as soon as the upstream created it (a run after a restart polls it) */
  recordUpstream(taskId: string, upstream: StoredUpstream): Promise<boolean>;
  /** the upstream's callback said its task is final (store.tasks.markUpstreamFinal: once per task) */
  markUpstreamFinal(taskId: string): Promise<'marked' | 'again' | 'finished' | 'unknown'>;
  /** when that was recorded (ms), null if not: the worker polling the upstream asks this cheaply and often */
  upstreamFinal(taskId: string): Promise<number | null>;
  /** moves a non-terminal task forward; returns false if it was already terminal */
  advance(taskId: string, status: 'handling' | 'archiving', reshoot?: ReshootExtension): Promise<boolean>;
  /** stores the outputs (blob keys); their links expire `outputTtlSeconds` after completion (D8) */
  succeed(taskId: string, outputs: Array<{ key: string; bytes: number }>, reshoot: ReshootExtension): Promise<TaskRow | null>;
  fail(taskId: string, code: TaskErrorCode, message: string, reshoot?: ReshootExtension): Promise<TaskRow | null>;
  countByStatus(): Promise<Record<string, number>>;
  usage(keyId: string, fromSec: number, toSec: number): Promise<UsageReport>;
  /** USD this key has been charged in all (failed tasks are not charged) */
  spent(keyId: string): Promise<number>;
}

export interface UsageReport {
  from: number;
  to: number;
  total: { tasks: number; usd: number };
  days: Array<{ day: string; model: string; tasks: number; succeeded: number; failed: number; usd: number }>;
  /** the same tasks by the engine that rendered them: what was charged, and the upstream's part of it */
  engines: Array<{ engine: string; tasks: number; succeeded: number; failed: number; usd: number; upstream_usd: number }>;
}

/** Seconds a `processing` idempotency claim is honoured before it is taken as abandoned (crash mid-create). */
const CLAIM_STALE_MS = 60_000;

export const hashBody = (raw: Buffer | string): string => createHash('sha256').update(raw).digest('hex');

export function createTaskService(deps: TaskServiceDeps): TaskService {
  const { store, queue, signer, pricing } = deps;
  const nowMs = deps.nowMs ?? Date.now;
  const nowSec = () => Math.floor(nowMs() / 1000);

  /** The task whose output this URL is, if it is one of ours, still valid, and the caller's. */
  async function parentOf(keyId: string, url: string | undefined): Promise<string | null> {
    const key = url ? signer.ownKey(url) : null;
    const m = key ? /^tasks\/(tk-hiapi-[0-9A-Z]{26})\//.exec(key) : null;
    if (!m) return null;
    const parent = await store.tasks.getOwned(m[1]!, keyId);
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
    // while the upstream paints, and after a failure, the stored upstream task is the operator's lead
    const upstream = ext.upstream ? undefined : storedUpstream(row);
    if (upstream) ext.upstream = upstream;
    ext.cost = { usd: row.status === 'fail' ? 0 : row.cost_usd, model: row.model };
    // a generative engine's price carries the upstream's part (refunded with the rest on a failure)
    if (row.engine && row.engine !== 'studio') ext.cost = { ...ext.cost, engine: row.engine, upstreamUsd: row.status === 'fail' ? 0 : row.upstream_usd };
    obj.reshoot = ext;
    return obj;
  }

  /** Claims an idempotency key or answers from it: replay, 409 in flight, 422 other body. */
  async function claim(keyId: string, key: string, hash: string): Promise<CreateResult | null> {
    const outcome = await store.idempotency.claim(keyId, key, hash, { nowMs: nowMs(), ttlMs: deps.idempotencyTtlSeconds * 1000, staleMs: CLAIM_STALE_MS });
    switch (outcome.state) {
      case 'claimed':
        return null;
      case 'replay':
        return { taskId: outcome.taskId, replay: true };
      case 'mismatch':
        throw new AppError('IDEMPOTENCY_KEY_MISMATCH');
      case 'processing':
        throw new AppError('IDEMPOTENCY_KEY_PROCESSING', undefined, { retryAfter: 5 });
    }
  }

  let lastPurge = 0;
  // Queue depth is read at most every 250 ms (a count over the jobs table is O(depth)); creates in
  // between add to it. Load shedding only needs an approximate figure.
  let depth = { value: 0, at: -Infinity };
  const queueDepth = async () => {
    const t = nowMs();
    if (t - depth.at > 250) depth = { value: await queue.depth(JOB.reshoot), at: t };
    return depth.value;
  };

  const finish = (f: Omit<Finish, 'now'>) => store.tasks.finish({ ...f, now: nowMs() });

  return {
    async create(keyId, req, opts = {}) {
      const t = nowMs();
      if (t - lastPurge > 60_000) {
        lastPurge = t;
        await store.idempotency.purge(t - deps.idempotencyTtlSeconds * 1000);
      }
      let idem: { key: string; hash: string } | null = null;
      if (opts.idempotencyKey !== undefined) {
        idem = { key: opts.idempotencyKey, hash: hashBody(opts.rawBody ?? '') };
        const answered = await claim(keyId, idem.key, idem.hash);
        if (answered) return answered;
      }
      try {
        const parentId = opts.parentId ?? (await parentOf(keyId, req.input.input_urls[0]));
        if (req.input.scene_from !== undefined) {
          const from = await store.tasks.getOwned(req.input.scene_from, keyId);
          if (!from) throw new AppError('INVALID_REQUEST', `input.scene_from: task ${req.input.scene_from} not found`);
          if (from.status !== 'success') {
            throw new AppError('INVALID_REQUEST', `input.scene_from: task ${req.input.scene_from} has status ${from.status}; only a successful task's scene can be reused`);
          }
        }
        // Refusals come before anything is created or charged (contract §7.4).
        if ((await queueDepth()) >= deps.maxQueueDepth) {
          throw new AppError('SERVICE_UNAVAILABLE', 'the task queue is full; retry later', { retryAfter: 10 });
        }
        // the route's price: a generative upstream's (plus the margin) counts against the budget like any other
        const quote = pricing.quote(req.modelName, req.input as unknown as Record<string, unknown>, req.route);
        const cost = quote.usd;
        const created = nowMs();
        const id = newTaskId(created);
        const stored: StoredTaskInput = { ...req.input, tier: req.spec.tier };
        const outcome = await store.tasks.create(
          {
            id,
            key_id: keyId,
            model: req.modelName,
            created: Math.floor(created / 1000),
            storage: req.storage,
            route: req.route ?? null,
            input: JSON.stringify(stored),
            callback_url: req.callback?.url ?? null,
            cost_usd: cost,
            engine: quote.engine,
            upstream_usd: quote.upstreamUsd,
            parent_id: parentId,
            updated_ms: created,
          },
          {
            idempotencyKey: idem?.key,
            budgetUsd: opts.budgetUsd,
            // a queue in the store's database enqueues inside the create's transaction (the task and its
            // job exist together or not at all); one elsewhere (Redis) after the commit, below
            enqueue: (tx) => (queue.transactional ? queue.enqueueIn(tx, JOB.reshoot, { taskId: id }) : undefined),
          },
        );
        if (outcome.created && !queue.transactional) {
          // The task is committed: answering an error now would make the client create it twice. A job
          // that could not be added is added again by the reconciler (reconcileQueued).
          await queue.enqueue(JOB.reshoot, { taskId: id }).catch((err: unknown) => deps.onEnqueueError?.(id, err));
        }
        if (!outcome.created) {
          const budget = opts.budgetUsd ?? 0;
          throw new AppError(
            'INSUFFICIENT_BALANCE',
            `budget exceeded: this key has spent $${outcome.spentUsd.toFixed(2)} of its $${budget.toFixed(2)} budget and this task costs $${cost.toFixed(2)}; nothing was created or charged`,
          );
        }
        depth.value++;
        return { taskId: id, replay: false };
      } catch (err) {
        // A rejected request does not use up the key (D11).
        if (idem) await store.idempotency.release(keyId, idem.key);
        throw err;
      }
    },
    async get(keyId, taskId) {
      const row = await store.tasks.getOwned(taskId, keyId);
      if (!row) throw new AppError('NOT_FOUND', `task ${taskId} not found`);
      return toObject(row);
    },
    async list(keyId, page, size) {
      const [rows, total] = await Promise.all([store.tasks.list(keyId, size, (page - 1) * size), store.tasks.count(keyId)]);
      return { page, size, total, tasks: rows.map(toObject) };
    },
    load: (taskId) => store.tasks.get(taskId),
    recordRun: (taskId, sources, seed) => store.tasks.recordRun(taskId, JSON.stringify(sources), seed),
    recordUpstream: (taskId, u) => store.tasks.recordUpstream(taskId, JSON.stringify({ engine: u.engine, taskId: u.taskId })),
    markUpstreamFinal: (taskId) => store.tasks.markUpstreamFinal(taskId, nowMs()),
    upstreamFinal: (taskId) => store.tasks.upstreamFinal(taskId),
    toObject,
    advance: (taskId, status, reshoot) => store.tasks.advance(taskId, status, reshoot ? JSON.stringify(reshoot) : null, nowMs()),
    async succeed(taskId, files, reshoot) {
      const completed = nowSec();
      const persistent = (await store.tasks.get(taskId))?.storage === 'persistent';
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
      });
    },
    async countByStatus() {
      const out: Record<string, number> = { queued: 0, handling: 0, archiving: 0, success: 0, fail: 0 };
      for (const r of await store.tasks.countByStatus()) out[r.status] = r.n;
      return out;
    },
    spent: (keyId) => store.tasks.spent(keyId),
    async usage(keyId, fromSec, toSec) {
      const rows = await store.tasks.usage(keyId, fromSec, toSec);
      // the store's rows are per day, model and engine: summed per day and model, and per engine
      const days = new Map<string, UsageReport['days'][number]>();
      const engines = new Map<string, UsageReport['engines'][number]>();
      for (const r of rows) {
        const day = days.get(`${r.day}\n${r.model}`) ?? { day: r.day, model: r.model, tasks: 0, succeeded: 0, failed: 0, usd: 0 };
        const engine = engines.get(r.engine) ?? { engine: r.engine, tasks: 0, succeeded: 0, failed: 0, usd: 0, upstream_usd: 0 };
        for (const sum of [day, engine]) {
          sum.tasks += Number(r.tasks);
          sum.succeeded += Number(r.succeeded);
          sum.failed += Number(r.failed);
          sum.usd += r.usd;
        }
        engine.upstream_usd += r.upstream_usd;
        days.set(`${r.day}\n${r.model}`, day);
        engines.set(r.engine, engine);
      }
      const dayList = [...days.values()].map((d) => ({ ...d, usd: round(d.usd) }));
      return {
        from: fromSec,
        to: toSec,
        total: { tasks: dayList.reduce((a, d) => a + d.tasks, 0), usd: round(dayList.reduce((a, d) => a + d.usd, 0)) },
        days: dayList,
        engines: [...engines.values()].sort((a, b) => a.engine.localeCompare(b.engine)).map((e) => ({ ...e, usd: round(e.usd), upstream_usd: round(e.upstream_usd) })),
      };
    },
  };
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * For a job queue outside the database: adds the render job of every task still queued and untouched
 * for `graceMs` again (a crash between the task's commit and its job's add loses the job). Adding a
 * job Redis still holds is a no-op (render jobs carry their task's id). Answers how many tasks it found.
 */
export async function reconcileQueued(deps: { store: Store; queue: JobQueue; graceMs: number; nowMs?: () => number }): Promise<number> {
  const ids = await deps.store.tasks.queuedBefore((deps.nowMs ?? Date.now)() - deps.graceMs, 500);
  for (const taskId of ids) await deps.queue.enqueue(JOB.reshoot, { taskId });
  return ids.length;
}
