import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EngineOptions } from '../../engine/types.js';
import { createEnginePool } from '../../worker/engine-pool.js';
import { ApiError, TaskFailedError, type Client, type TaskObject } from '../../sdk/index.js';
import { localRequest, wireInput } from '../shared.js';
import type { BatchItem } from './jobs.js';
import { appendState, type BatchState } from './state.js';

/** Runs one batch item to a file in the output directory; either in-process or through a server. */
export interface Executor {
  /** `task`: the server's finished task (its report: engine, lock figures, fallback) */
  run(item: BatchItem, signal: AbortSignal): Promise<{ taskId?: string; task?: TaskObject }>;
  close(): Promise<void>;
}

/** Writes beside the target and renames, so an output under its real name is always complete. */
export function writeAtomic(dest: string, data: Uint8Array): void {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${randomUUID().slice(0, 8)}.part`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * In-process: the engine in a worker-thread pool (the same pool the server's worker uses), because
 * much of the pipeline is JavaScript on the main thread and a single thread keeps only one core busy.
 */
export function createLocalExecutor(model: string, outDir: string, options: EngineOptions, threads: number): Executor {
  const pool = createEnginePool(options, threads);
  return {
    async run(item, signal) {
      if (/^(https?|data):/i.test(item.image)) throw new Error(`${item.image.slice(0, 60)}: URLs need --server; in-process batches read local files`);
      const req = localRequest(model, item.flags, [item.image], item.key);
      const result = await pool.transform(req, signal);
      writeAtomic(path.join(outDir, item.out), result.data);
      return {};
    },
    close: () => pool.close(),
  };
}

/**
 * Through a server with the SDK. Each local image is uploaded once (the URL is kept in the state so a
 * resumed run sends byte-identical bodies), each create carries an Idempotency-Key derived from the
 * item and its attempt number, and the task id is journalled before waiting: an interrupted run
 * picks the same task up again instead of paying for a second one. `route` goes on every create (the
 * item's key includes it and the lock mode, so a resumed run sends the same body under the same key).
 */
export function createRemoteExecutor(client: Client, model: string, outDir: string, state: BatchState, opts: { timeoutMs: number; route?: string }): Executor {
  const uploads = new Map<string, Promise<string>>();
  const upload = (image: string): Promise<string> => {
    if (/^(https?|data):/i.test(image)) return Promise.resolve(image);
    const known = state.uploads.get(image);
    if (known) return Promise.resolve(known);
    let p = uploads.get(image);
    if (!p) {
      p = client.uploads.create(new Uint8Array(readFileSync(image)), { filename: path.basename(image) }).then(({ url }) => {
        state.uploads.set(image, url);
        appendState(outDir, { t: 'upload', image, url, at: Date.now() });
        return url;
      });
      // a failed upload is retried by the next item that needs it
      p.catch(() => uploads.delete(image));
      uploads.set(image, p);
    }
    return p;
  };

  const waitFor = async (taskId: string, signal: AbortSignal) => client.tasks.wait(taskId, { intervalMs: 1000, timeoutMs: opts.timeoutMs, signal });

  return {
    async run(item, signal) {
      let task;
      const pending = state.submitted.get(item.key);
      if (pending) {
        try {
          task = await waitFor(pending.taskId, signal);
        } catch (err) {
          // the server forgot it (another data dir, expired): create it afresh below
          if (!(err instanceof ApiError && err.code === 'NOT_FOUND')) throw err;
          state.submitted.delete(item.key);
        }
      }
      if (!task) {
        const url = await upload(item.image);
        const attempt = (state.failedCount.get(item.key) ?? 0) + 1;
        const created = await client.tasks.createRaw(
          { model, input: wireInput(item.flags, [url]) },
          // a retried failure needs a new key, or the server would replay the failed task
          { idempotencyKey: `reshoot-batch-${item.key}-${attempt}`, signal, ...(opts.route ? { route: opts.route } : {}) },
        );
        const submitted = { t: 'submitted' as const, key: item.key, taskId: created.taskId, attempt, at: Date.now(), ...(opts.route ? { route: opts.route } : {}) };
        state.submitted.set(item.key, submitted);
        appendState(outDir, submitted);
        task = await waitFor(created.taskId, signal);
      }
      const first = task.output?.[0];
      if (!first) throw new TaskFailedError({ ...task, status: 'fail', error: { code: 'TASK_FAILED', message: 'succeeded without an output' } });
      mkdirSync(outDir, { recursive: true });
      await client.download(first, path.join(outDir, item.out), { signal });
      return { taskId: task.taskId, task };
    },
    close: async () => {},
  };
}
