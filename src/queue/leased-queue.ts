import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import { PermanentTaskError } from '../errors.js';
import type { StoreTx } from '../store/types.js';
import {
  UnrecoverableJobError,
  backoffMs,
  type EnqueueOptions,
  type Job,
  type JobHandlers,
  type JobName,
  type JobPayload,
  type JobQueue,
  type WorkOptions,
} from './types.js';

export interface JobRow {
  id: string;
  name: string;
  payload: string;
  attempts: number;
  max_attempts: number;
}

type Maybe<T> = T | Promise<T>;

export interface NewJob {
  queue: string;
  name: string;
  payload: string;
  maxAttempts: number;
  runAtMs: number;
  nowMs: number;
}

/**
 * A table of jobs in a database: what the leased queue needs from it. Every write that touches a
 * claimed job names its lease owner, so a worker whose lease lapsed (and whose job another worker
 * took over) cannot finish or reschedule it.
 */
export interface JobTable {
  insert(job: NewJob): Maybe<string>;
  /** the insert inside a store transaction (a task create's) */
  insertIn(tx: StoreTx, job: NewJob): Maybe<string>;
  depth(queue: string, name: string): Maybe<number>;
  /** picks and leases the next runnable job: waiting and due, or active with a lapsed lease */
  claim(c: { owner: string; leaseUntil: number; now: number; queue: string; names: string[] }): Maybe<JobRow | undefined>;
  undoClaim(id: string, owner: string): Maybe<void>;
  renew(id: string, owner: string, leaseUntil: number, now: number): Maybe<void>;
  done(id: string, owner: string, now: number): Maybe<void>;
  fail(id: string, owner: string, error: string, now: number): Maybe<void>;
  retry(id: string, owner: string, error: string, runAt: number, now: number): Maybe<void>;
  /** hands a job back untouched (its attempt does not count) */
  release(id: string, owner: string, runAt: number, now: number): Maybe<void>;
  prune(beforeMs: number): Maybe<number>;
}

export interface LeasedQueueDeps {
  logger: Logger;
  /** queue name: lets several queues (tests) share one database */
  queue?: string;
  leaseMs: number;
  defaultMaxAttempts: number;
  pollMs?: number;
  now?: () => number;
}

/**
 * A durable job queue on a database table. A worker claims a row by leasing it; it renews the lease
 * while the handler runs. If the process dies, the lease runs out and the next claim takes the job
 * over, so a restart loses no queued or running work.
 */
export function createLeasedQueue(table: JobTable, deps: LeasedQueueDeps): JobQueue {
  const queue = deps.queue ?? 'default';
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? 250;
  const owner = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const wake = new EventEmitter();
  const log = deps.logger.child({ module: 'queue' });

  let closing: Promise<void> | null = null;
  let stopped = false;
  const running = new Map<string, { controller: AbortController; promise: Promise<void> }>();
  /** the claim loop in progress, which close waits for (a job it claims after the stop is handed back) */
  let claiming: Promise<void> | null = null;

  /**
   * A job's bookkeeping write. One that fails (a full disk, a lost connection) is logged and dropped:
   * the job keeps its lease until it lapses, and is then claimed again like a dead worker's job, so
   * nothing is lost and no error escapes into a timer or a finished job's promise.
   */
  async function write(what: string, run: () => Maybe<unknown>): Promise<void> {
    try {
      await run();
    } catch (err) {
      log.error({ err }, `could not ${what} a job; its lease will lapse and it will be claimed again`);
    }
  }

  const newJob = <N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions): NewJob => {
    const t = now();
    return { queue, name, payload: JSON.stringify(payload), maxAttempts: opts.maxAttempts ?? deps.defaultMaxAttempts, runAtMs: t + (opts.delayMs ?? 0), nowMs: t };
  };

  async function enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions = {}): Promise<string> {
    const id = await table.insert(newJob(name, payload, opts));
    wake.emit('job');
    return id;
  }

  function enqueueIn<N extends JobName>(tx: StoreTx, name: N, payload: JobPayload<N>, opts: EnqueueOptions = {}): Maybe<string> {
    const id = table.insertIn(tx, newJob(name, payload, opts));
    // a claim wakes after the transaction (SQLite's commits before the next tick; a claim that comes
    // early finds nothing and the next poll takes it)
    setImmediate(() => wake.emit('job'));
    return id;
  }

  async function depth(name: JobName): Promise<number> {
    return table.depth(queue, name);
  }

  function work(handlers: JobHandlers, opts: WorkOptions): void {
    const activeByName = new Map<string, number>();
    let timer: NodeJS.Timeout | null = null;

    const claimable = (): string[] => {
      if (running.size >= opts.concurrency) return [];
      return (Object.keys(handlers) as JobName[]).filter((n) => (activeByName.get(n) ?? 0) < (opts.perName?.[n] ?? opts.concurrency));
    };

    // While the database refuses writes (a full disk, an I/O error) claims stop and are tried again
    // after a growing pause, instead of spinning; the first refusal and the recovery are logged.
    let refusedSince: number | null = null;
    let resumeAt = 0;
    // one claim loop at a time; a wake during one runs another after it
    let pumping = false;
    let again = false;

    const pump = async () => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          if (stopped || now() < resumeAt) return;
          try {
            claiming = claimAll();
            await claiming;
            if (refusedSince !== null) log.info({ pausedMs: now() - refusedSince }, 'queue writes work again; claiming resumed');
            refusedSince = null;
          } catch (err) {
            refusedSince ??= now();
            const pause = Math.min(30_000, Math.max(pollMs, (now() - refusedSince) / 2));
            resumeAt = now() + pause;
            if (pause === pollMs || pause === 30_000) log.error({ err, retryInMs: pause }, 'queue cannot claim jobs; pausing');
          }
        } while (again);
      } finally {
        pumping = false;
        claiming = null;
      }
    };
    const kick = () => void pump();

    const claimAll = async () => {
      for (;;) {
        const names = claimable();
        if (names.length === 0 || stopped) break;
        const t = now();
        const row = await table.claim({ owner, leaseUntil: t + deps.leaseMs, now: t, queue, names });
        if (!row) break;
        if (running.has(row.id)) {
          // Our own lease lapsed while the event loop was held (the heartbeat could not run); the job
          // is still running here, so keep the renewed lease and do not start it twice.
          await table.undoClaim(row.id, owner);
          continue;
        }
        if (stopped) {
          await write('release', () => table.release(row.id, owner, now(), now()));
          break;
        }
        start(row);
      }
    };

    const start = (row: JobRow) => {
      const name = row.name as JobName;
      const job: Job = { id: row.id, name, payload: JSON.parse(row.payload), attempt: row.attempts, maxAttempts: row.max_attempts };
      const controller = new AbortController();
      activeByName.set(name, (activeByName.get(name) ?? 0) + 1);
      const heartbeat = setInterval(() => void write('renew the lease of', () => table.renew(row.id, owner, now() + deps.leaseMs, now())), Math.max(200, deps.leaseMs / 3));
      heartbeat.unref();
      const handler = handlers[name] as (job: Job, signal: AbortSignal) => Promise<void>;
      const jlog = log.child({ job: name, jobId: job.id, attempt: job.attempt });
      const promise = (async () => {
        try {
          await handler(job, controller.signal);
          await write('finish', () => table.done(row.id, owner, now()));
        } catch (err) {
          if (stopped && controller.signal.aborted) {
            // Shut down mid-run: hand the job back untouched so the next worker runs it again.
            await write('release', () => table.release(row.id, owner, now(), now()));
            jlog.warn('job released at shutdown');
          } else if (err instanceof UnrecoverableJobError || err instanceof PermanentTaskError || job.attempt >= job.maxAttempts) {
            await write('fail', () => table.fail(row.id, owner, String(err instanceof Error ? err.message : err), now()));
            jlog.error({ err }, 'job failed');
          } else {
            const delay = backoffMs(job.attempt);
            await write('reschedule', () => table.retry(row.id, owner, String(err instanceof Error ? err.message : err), now() + delay, now()));
            jlog.warn({ err, delayMs: delay }, 'job will retry');
          }
        } finally {
          clearInterval(heartbeat);
          running.delete(row.id);
          activeByName.set(name, (activeByName.get(name) ?? 1) - 1);
          setImmediate(kick);
        }
      })();
      running.set(row.id, { controller, promise });
    };

    const onWake = () => setImmediate(kick);
    wake.on('job', onWake);
    const tick = () => {
      void pump().finally(() => {
        if (!stopped) {
          timer = setTimeout(tick, pollMs);
          timer.unref();
        }
      });
    };
    tick();
    wake.once('stop', () => {
      if (timer) clearTimeout(timer);
      wake.off('job', onWake);
    });
  }

  function close(deadlineMs = 30_000): Promise<void> {
    closing ??= (async () => {
      stopped = true;
      wake.emit('stop');
      await claiming?.catch(() => {});
      const all = Promise.allSettled([...running.values()].map((r) => r.promise));
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), deadlineMs).unref());
      if ((await Promise.race([all, timeout])) === 'timeout') {
        for (const r of running.values()) r.controller.abort(new Error('worker shutting down'));
        await all;
      }
    })();
    return closing;
  }

  return { transactional: true, enqueue, enqueueIn, depth, prune: async (before) => table.prune(before), work, close };
}
