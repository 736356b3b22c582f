import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import { PermanentTaskError } from '../../errors.js';
import type { Db } from '../../store/sqlite/database.js';
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
} from '../types.js';

interface JobRow {
  id: number;
  name: string;
  payload: string;
  attempts: number;
  max_attempts: number;
}

export interface SqliteQueueDeps {
  db: Db;
  logger: Logger;
  /** queue name: lets several queues (tests) share one database */
  queue?: string;
  leaseMs: number;
  defaultMaxAttempts: number;
  pollMs?: number;
  now?: () => number;
}

/**
 * A durable job queue in SQLite. A worker claims a row by leasing it; it renews the lease while the
 * handler runs. If the process dies, the lease runs out and the next claim takes the job over, so a
 * restart loses no queued or running work.
 */
export function createSqliteQueue(deps: SqliteQueueDeps): JobQueue {
  const { db, logger } = deps;
  const queue = deps.queue ?? 'default';
  const now = deps.now ?? Date.now;
  const pollMs = deps.pollMs ?? 250;
  const owner = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const wake = new EventEmitter();
  const log = logger.child({ module: 'queue' });

  const insert = db.prepare(
    `INSERT INTO jobs (queue, name, payload, max_attempts, run_at_ms, created_ms, updated_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const depthStmt = db.prepare(`SELECT count(*) AS n FROM jobs WHERE queue = ? AND name = ? AND state IN ('waiting', 'active')`);
  // One statement picks and leases the next runnable job: waiting and due, or active with a lapsed lease.
  const claimStmt = db.prepare(
    `UPDATE jobs SET state = 'active', attempts = attempts + 1, lease_owner = @owner,
            lease_until_ms = @leaseUntil, updated_ms = @now
     WHERE id = (
       SELECT id FROM jobs
       WHERE queue = @queue AND name IN (SELECT value FROM json_each(@names))
         AND ((state = 'waiting' AND run_at_ms <= @now) OR (state = 'active' AND lease_until_ms < @now))
       ORDER BY run_at_ms, id LIMIT 1)
     RETURNING id, name, payload, attempts, max_attempts`,
  );
  const undoClaimStmt = db.prepare(`UPDATE jobs SET attempts = attempts - 1 WHERE id = ? AND lease_owner = ?`);
  const renewStmt = db.prepare(`UPDATE jobs SET lease_until_ms = ?, updated_ms = ? WHERE id = ? AND lease_owner = ? AND state = 'active'`);
  const doneStmt = db.prepare(`UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until_ms = NULL, updated_ms = ? WHERE id = ? AND lease_owner = ?`);
  const failStmt = db.prepare(`UPDATE jobs SET state = 'failed', last_error = ?, lease_owner = NULL, lease_until_ms = NULL, updated_ms = ? WHERE id = ? AND lease_owner = ?`);
  const retryStmt = db.prepare(
    `UPDATE jobs SET state = 'waiting', last_error = ?, run_at_ms = ?, lease_owner = NULL, lease_until_ms = NULL, updated_ms = ? WHERE id = ? AND lease_owner = ?`,
  );
  const releaseStmt = db.prepare(`UPDATE jobs SET state = 'waiting', attempts = attempts - 1, lease_owner = NULL, lease_until_ms = NULL, run_at_ms = ?, updated_ms = ? WHERE id = ? AND lease_owner = ?`);

  let closing: Promise<void> | null = null;
  let stopped = false;
  const running = new Map<number, { controller: AbortController; promise: Promise<void> }>();

  /**
   * A job's bookkeeping write. One that fails (a full disk) is logged and dropped: the job keeps its
   * lease until it lapses, and is then claimed again like a dead worker's job, so nothing is lost and
   * no error escapes into a timer or a finished job's promise.
   */
  function write(what: string, run: () => unknown): void {
    try {
      run();
    } catch (err) {
      log.error({ err }, `could not ${what} a job; its lease will lapse and it will be claimed again`);
    }
  }

  function enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions = {}): string {
    const t = now();
    const info = insert.run(queue, name, JSON.stringify(payload), opts.maxAttempts ?? deps.defaultMaxAttempts, t + (opts.delayMs ?? 0), t, t);
    wake.emit('job');
    return String(info.lastInsertRowid);
  }

  function depth(name: JobName): number {
    return (depthStmt.get(queue, name) as { n: number }).n;
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

    const pump = () => {
      if (stopped || now() < resumeAt) return;
      try {
        claimAll();
        if (refusedSince !== null) log.info({ pausedMs: now() - refusedSince }, 'queue writes work again; claiming resumed');
        refusedSince = null;
      } catch (err) {
        refusedSince ??= now();
        const pause = Math.min(30_000, Math.max(pollMs, (now() - refusedSince) / 2));
        resumeAt = now() + pause;
        if (pause === pollMs || pause === 30_000) log.error({ err, retryInMs: pause }, 'queue cannot claim jobs; pausing');
      }
    };

    const claimAll = () => {
      for (;;) {
        const names = claimable();
        if (names.length === 0) break;
        const t = now();
        // all(), not get(): a statement with RETURNING commits when it runs to completion, and a commit
        // that fails (SQLITE_FULL) must throw here rather than hand out a row that was never saved.
        const [row] = claimStmt.all({ owner, leaseUntil: t + deps.leaseMs, now: t, queue, names: JSON.stringify(names) }) as JobRow[];
        if (!row) break;
        if (running.has(row.id)) {
          // Our own lease lapsed while the event loop was held (the heartbeat could not run); the job
          // is still running here, so keep the renewed lease and do not start it twice.
          undoClaimStmt.run(row.id, owner);
          continue;
        }
        start(row);
      }
    };

    const start = (row: JobRow) => {
      const name = row.name as JobName;
      const job: Job = { id: String(row.id), name, payload: JSON.parse(row.payload), attempt: row.attempts, maxAttempts: row.max_attempts };
      const controller = new AbortController();
      activeByName.set(name, (activeByName.get(name) ?? 0) + 1);
      const heartbeat = setInterval(() => write('renew the lease of', () => renewStmt.run(now() + deps.leaseMs, now(), row.id, owner)), Math.max(200, deps.leaseMs / 3));
      heartbeat.unref();
      const handler = handlers[name] as (job: Job, signal: AbortSignal) => Promise<void>;
      const jlog = log.child({ job: name, jobId: job.id, attempt: job.attempt });
      const promise = (async () => {
        try {
          await handler(job, controller.signal);
          write('finish', () => doneStmt.run(now(), row.id, owner));
        } catch (err) {
          if (stopped && controller.signal.aborted) {
            // Shut down mid-run: hand the job back untouched so the next worker runs it again.
            write('release', () => releaseStmt.run(now(), now(), row.id, owner));
            jlog.warn('job released at shutdown');
          } else if (err instanceof UnrecoverableJobError || err instanceof PermanentTaskError || job.attempt >= job.maxAttempts) {
            write('fail', () => failStmt.run(String(err instanceof Error ? err.message : err), now(), row.id, owner));
            jlog.error({ err }, 'job failed');
          } else {
            const delay = backoffMs(job.attempt);
            write('reschedule', () => retryStmt.run(String(err instanceof Error ? err.message : err), now() + delay, now(), row.id, owner));
            jlog.warn({ err, delayMs: delay }, 'job will retry');
          }
        } finally {
          clearInterval(heartbeat);
          running.delete(row.id);
          activeByName.set(name, (activeByName.get(name) ?? 1) - 1);
          setImmediate(pump);
        }
      })();
      running.set(row.id, { controller, promise });
    };

    const onWake = () => setImmediate(pump);
    wake.on('job', onWake);
    const tick = () => {
      pump();
      if (!stopped) {
        timer = setTimeout(tick, pollMs);
        timer.unref();
      }
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
      const all = Promise.allSettled([...running.values()].map((r) => r.promise));
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), deadlineMs).unref());
      if ((await Promise.race([all, timeout])) === 'timeout') {
        for (const r of running.values()) r.controller.abort(new Error('worker shutting down'));
        await all;
      }
    })();
    return closing;
  }

  return { enqueue, depth, work, close };
}
