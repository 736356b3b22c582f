import type pg from 'pg';
import { createLeasedQueue, type JobRow, type JobTable, type LeasedQueueDeps, type NewJob } from '../leased-queue.js';
import type { JobQueue } from '../types.js';

export interface PostgresQueueDeps extends LeasedQueueDeps {
  pool: pg.Pool;
}

const INSERT = `INSERT INTO jobs (queue, name, payload, max_attempts, run_at_ms, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id::text AS id`;
const params = (j: NewJob) => [j.queue, j.name, j.payload, j.maxAttempts, j.runAtMs, j.nowMs];

/**
 * The jobs table in the Postgres database the task store uses. A claim leases the oldest due row
 * with FOR UPDATE SKIP LOCKED, so workers on several machines each take a different job without
 * waiting on each other; a lapsed lease is claimed again like a waiting job.
 */
export function postgresJobTable(pool: pg.Pool): JobTable {
  const run = async (sql: string, values: unknown[]) => void (await pool.query(sql, values));
  return {
    insert: async (job) => (await pool.query<{ id: string }>(INSERT, params(job))).rows[0]!.id,
    async insertIn(tx, job) {
      if (tx.kind !== 'postgres') throw new Error('the Postgres job queue can only enqueue in a Postgres transaction');
      return (await tx.client.query<{ id: string }>(INSERT, params(job))).rows[0]!.id;
    },
    depth: async (queue, name) =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE queue = $1 AND name = $2 AND state IN ('waiting', 'active')`, [queue, name])).rows[0]!.n,
    async claim(c) {
      const { rows } = await pool.query<JobRow>(
        `UPDATE jobs SET state = 'active', attempts = attempts + 1, lease_owner = $1, lease_until_ms = $2, updated_ms = $3
          WHERE id = (
            SELECT id FROM jobs
             WHERE queue = $4 AND name = ANY($5::text[])
               AND ((state = 'waiting' AND run_at_ms <= $3) OR (state = 'active' AND lease_until_ms < $3))
             ORDER BY run_at_ms, id LIMIT 1
             FOR UPDATE SKIP LOCKED)
          RETURNING id::text AS id, name, payload, attempts, max_attempts`,
        [c.owner, c.leaseUntil, c.now, c.queue, c.names],
      );
      return rows[0];
    },
    undoClaim: (id, owner) => run(`UPDATE jobs SET attempts = attempts - 1 WHERE id = $1 AND lease_owner = $2`, [id, owner]),
    renew: (id, owner, leaseUntil, now) => run(`UPDATE jobs SET lease_until_ms = $3, updated_ms = $4 WHERE id = $1 AND lease_owner = $2 AND state = 'active'`, [id, owner, leaseUntil, now]),
    done: (id, owner, now) => run(`UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until_ms = NULL, updated_ms = $3 WHERE id = $1 AND lease_owner = $2`, [id, owner, now]),
    fail: (id, owner, error, now) =>
      run(`UPDATE jobs SET state = 'failed', last_error = $3, lease_owner = NULL, lease_until_ms = NULL, updated_ms = $4 WHERE id = $1 AND lease_owner = $2`, [id, owner, error, now]),
    retry: (id, owner, error, runAt, now) =>
      run(`UPDATE jobs SET state = 'waiting', last_error = $3, run_at_ms = $4, lease_owner = NULL, lease_until_ms = NULL, updated_ms = $5 WHERE id = $1 AND lease_owner = $2`, [
        id,
        owner,
        error,
        runAt,
        now,
      ]),
    release: (id, owner, runAt, now) =>
      run(`UPDATE jobs SET state = 'waiting', attempts = attempts - 1, lease_owner = NULL, lease_until_ms = NULL, run_at_ms = $3, updated_ms = $4 WHERE id = $1 AND lease_owner = $2`, [
        id,
        owner,
        runAt,
        now,
      ]),
    prune: async (before) => (await pool.query(`DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_ms < $1`, [before])).rowCount ?? 0,
  };
}

/** The job queue with RESHOOT_DATABASE_URL: jobs in Postgres beside the tasks, claimed with SKIP LOCKED. */
export function createPostgresQueue(deps: PostgresQueueDeps): JobQueue {
  return createLeasedQueue(postgresJobTable(deps.pool), deps);
}
