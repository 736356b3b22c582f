import type { Db } from '../../store/sqlite/database.js';
import { createLeasedQueue, type JobRow, type JobTable, type LeasedQueueDeps, type NewJob } from '../leased-queue.js';
import type { JobQueue } from '../types.js';

export interface SqliteQueueDeps extends LeasedQueueDeps {
  db: Db;
}

/** The jobs table in the SQLite database the task store uses (so a task and its job commit together). */
export function sqliteJobTable(db: Db): JobTable {
  const insert = db.prepare(
    `INSERT INTO jobs (queue, name, payload, max_attempts, run_at_ms, created_ms, updated_ms)
     VALUES (@queue, @name, @payload, @maxAttempts, @runAtMs, @nowMs, @nowMs)`,
  );
  const depth = db.prepare(`SELECT count(*) AS n FROM jobs WHERE queue = ? AND name = ? AND state IN ('waiting', 'active')`);
  // One statement picks and leases the next runnable job: waiting and due, or active with a lapsed lease.
  const claim = db.prepare(
    `UPDATE jobs SET state = 'active', attempts = attempts + 1, lease_owner = @owner,
            lease_until_ms = @leaseUntil, updated_ms = @now
     WHERE id = (
       SELECT id FROM jobs
       WHERE queue = @queue AND name IN (SELECT value FROM json_each(@names))
         AND ((state = 'waiting' AND run_at_ms <= @now) OR (state = 'active' AND lease_until_ms < @now))
       ORDER BY run_at_ms, id LIMIT 1)
     RETURNING id, name, payload, attempts, max_attempts`,
  );
  const undoClaim = db.prepare(`UPDATE jobs SET attempts = attempts - 1 WHERE id = ? AND lease_owner = ?`);
  const renew = db.prepare(`UPDATE jobs SET lease_until_ms = ?, updated_ms = ? WHERE id = ? AND lease_owner = ? AND state = 'active'`);
  const done = db.prepare(`UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until_ms = NULL, updated_ms = ? WHERE id = ? AND lease_owner = ?`);
  const fail = db.prepare(`UPDATE jobs SET state = 'failed', last_error = ?, lease_owner = NULL, lease_until_ms = NULL, updated_ms = ? WHERE id = ? AND lease_owner = ?`);
  const retry = db.prepare(
    `UPDATE jobs SET state = 'waiting', last_error = ?, run_at_ms = ?, lease_owner = NULL, lease_until_ms = NULL, updated_ms = ? WHERE id = ? AND lease_owner = ?`,
  );
  const release = db.prepare(`UPDATE jobs SET state = 'waiting', attempts = attempts - 1, lease_owner = NULL, lease_until_ms = NULL, run_at_ms = ?, updated_ms = ? WHERE id = ? AND lease_owner = ?`);
  const prune = db.prepare(`DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_ms < ?`);

  const add = (job: NewJob) => String(insert.run(job).lastInsertRowid);
  return {
    insert: add,
    insertIn(tx, job) {
      if (tx.kind !== 'sqlite' || tx.db !== db) throw new Error('the SQLite job queue can only enqueue in a transaction on its own database');
      return add(job);
    },
    depth: (queue, name) => (depth.get(queue, name) as { n: number }).n,
    claim(c) {
      // all(), not get(): a statement with RETURNING commits when it runs to completion, and a commit
      // that fails (SQLITE_FULL) must throw here rather than hand out a row that was never saved.
      const [row] = claim.all({ ...c, names: JSON.stringify(c.names) }) as Array<Omit<JobRow, 'id'> & { id: number }>;
      return row ? { ...row, id: String(row.id) } : undefined;
    },
    undoClaim: (id, owner) => void undoClaim.run(id, owner),
    renew: (id, owner, leaseUntil, now) => void renew.run(leaseUntil, now, id, owner),
    done: (id, owner, now) => void done.run(now, id, owner),
    fail: (id, owner, error, now) => void fail.run(error, now, id, owner),
    retry: (id, owner, error, runAt, now) => void retry.run(error, runAt, now, id, owner),
    release: (id, owner, runAt, now) => void release.run(runAt, now, id, owner),
    prune: (before) => prune.run(before).changes,
  };
}

/**
 * The embedded default: a durable job queue in the SQLite database. A worker claims a row by leasing
 * it; if the process dies, the lease runs out and the next claim takes the job over.
 */
export function createSqliteQueue(deps: SqliteQueueDeps): JobQueue {
  return createLeasedQueue(sqliteJobTable(deps.db), deps);
}
