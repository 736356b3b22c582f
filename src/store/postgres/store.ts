import pg from 'pg';
import {
  judgeClaim,
  type CallbackAttempt,
  type ClaimOutcome,
  type IdempotencyRow,
  type KeyRow,
  type ListedOutput,
  type Store,
  type StoredOutput,
  type TaskRow,
  type UsageDay,
} from '../types.js';

/** bigint (count, BIGINT columns) and numeric (sums) as JS numbers: every value here fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function createPostgresPool(url: string, opts: { max?: number; onError?: (err: Error) => void } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types, application_name: 'reshoot' });
  // an idle connection the server dropped: logged, and the pool opens another on the next query
  pool.on('error', (err) => opts.onError?.(err));
  return pool;
}

/** Runs `fn` in one transaction on one connection; rolls back on a throw. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

// An output is listed until it is deleted or, when temp, until its link expires.
const LISTED = `FROM tasks t CROSS JOIN LATERAL jsonb_array_elements(t.outputs::jsonb) WITH ORDINALITY AS o(value, ord)
   WHERE t.key_id = $1 AND t.status = 'success' AND NOT t.swept AND t.outputs IS NOT NULL
     AND o.value->'deleted' IS NULL
     AND (o.value->'persistent' IS NOT NULL OR (o.value->>'expireAt')::bigint >= $2)`;

/**
 * The repositories on Postgres (RESHOOT_DATABASE_URL), for several API and worker processes on
 * several machines. Where SQLite relied on being the only writer, each atomic operation is one
 * transaction here: idempotency claims insert-or-lock the key's row, a create with a budget holds a
 * per-key advisory lock while it sums the spend, output edits lock the task's row, and status
 * transitions are single conditional UPDATEs.
 */
export function createPostgresStore(pool: pg.Pool): Store {
  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await pool.query<R>(sql, params)).rows;
  const one = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await q<R>(sql, params))[0];

  return {
    kind: 'postgres',
    tasks: {
      create: (task, o) =>
        inTransaction(pool, async (c) => {
          if (o.budgetUsd != null && task.cost_usd > 0) {
            // creates on one key wait for each other here, so two cannot both fit under the budget
            await c.query(`SELECT pg_advisory_xact_lock(hashtext('reshoot.budget'), hashtext($1))`, [task.key_id]);
            const spentUsd = (await c.query<{ usd: number }>(`SELECT coalesce(sum(cost_usd), 0) AS usd FROM tasks WHERE key_id = $1 AND status != 'fail'`, [task.key_id])).rows[0]!.usd;
            if (spentUsd + task.cost_usd > o.budgetUsd + 1e-9) return { created: false, spentUsd };
          }
          await c.query(
            `INSERT INTO tasks (id, key_id, model, status, created, storage, route, input, callback_url, cost_usd, parent_id, updated_ms, engine, upstream_usd)
             VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
            [task.id, task.key_id, task.model, task.created, task.storage, task.route, task.input, task.callback_url, task.cost_usd, task.parent_id, task.updated_ms, task.engine, task.upstream_usd],
          );
          await o.enqueue({ kind: 'postgres', client: c });
          if (o.idempotencyKey !== undefined) {
            await c.query(`UPDATE idempotency SET task_id = $1 WHERE key_id = $2 AND idem_key = $3`, [task.id, task.key_id, o.idempotencyKey]);
          }
          return { created: true };
        }),
      get: (id) => one<TaskRow>(`SELECT * FROM tasks WHERE id = $1`, [id]),
      getOwned: (id, keyId) => one<TaskRow>(`SELECT * FROM tasks WHERE id = $1 AND key_id = $2`, [id, keyId]),
      list: (keyId, limit, offset) => q<TaskRow>(`SELECT * FROM tasks WHERE key_id = $1 ORDER BY created DESC, id DESC LIMIT $2 OFFSET $3`, [keyId, limit, offset]),
      count: async (keyId) => (await one<{ n: number }>(`SELECT count(*) AS n FROM tasks WHERE key_id = $1`, [keyId]))!.n,
      async advance(id, status, reshoot, now) {
        const r = await pool.query(
          `UPDATE tasks SET status = $2, reshoot = coalesce($3, reshoot), updated_ms = $4 WHERE id = $1 AND status NOT IN ('success', 'fail')`,
          [id, status, reshoot, now],
        );
        return (r.rowCount ?? 0) > 0;
      },
      async finish(f) {
        const row = await one<TaskRow>(
          `UPDATE tasks SET status = $2, completed = $3, outputs = $4, error_code = $5, error_message = $6, reshoot = coalesce($7, reshoot), updated_ms = $8
            WHERE id = $1 AND status NOT IN ('success', 'fail') RETURNING *`,
          [f.id, f.status, f.completed, f.outputs, f.error_code, f.error_message, f.reshoot, f.now],
        );
        return row ?? null;
      },
      recordRun: async (id, sources, seed) => void (await pool.query(`UPDATE tasks SET sources = $2, seed = $3 WHERE id = $1`, [id, sources, seed])),
      recordUpstream: async (id, upstream) =>
        // another upstream task than the one stored (created again) has had no callback yet
        ((await pool.query(
          `UPDATE tasks SET upstream_final = CASE WHEN upstream IS NOT NULL AND upstream != $2 THEN NULL ELSE upstream_final END, upstream = $2
           WHERE id = $1 AND status NOT IN ('success', 'fail')`,
          [id, upstream],
        )).rowCount ?? 0) > 0,
      markUpstreamFinal: async (id, now) => {
        const set = await pool.query(`UPDATE tasks SET upstream_final = $2 WHERE id = $1 AND upstream_final IS NULL AND status NOT IN ('success', 'fail')`, [id, now]);
        if ((set.rowCount ?? 0) > 0) return 'marked';
        const [row] = await q<{ status: string }>(`SELECT status FROM tasks WHERE id = $1`, [id]);
        return !row ? 'unknown' : row.status === 'success' || row.status === 'fail' ? 'finished' : 'again';
      },
      upstreamFinal: async (id) => {
        const [row] = await q<{ upstream_final: string | number | null }>(`SELECT upstream_final FROM tasks WHERE id = $1`, [id]);
        return row?.upstream_final == null ? null : Number(row.upstream_final);
      },
      queuedBefore: async (before, limit) =>
        (await q<{ id: string }>(`SELECT id FROM tasks WHERE status = 'queued' AND updated_ms < $1 ORDER BY updated_ms LIMIT $2`, [before, limit])).map((r) => r.id),
      countByStatus: () => q<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM tasks GROUP BY status`),
      spent: async (keyId) => (await one<{ usd: number }>(`SELECT coalesce(sum(cost_usd), 0) AS usd FROM tasks WHERE key_id = $1 AND status != 'fail'`, [keyId]))!.usd,
      usage: (keyId, from, to) =>
        q<UsageDay>(
          `SELECT to_char(to_timestamp(created) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, model, coalesce(engine, CASE WHEN route IN ('studio', 'hiapi', 'openai', 'comfyui') THEN route ELSE 'studio' END) AS engine, count(*) AS tasks,
                  count(*) FILTER (WHERE status = 'success') AS succeeded, count(*) FILTER (WHERE status = 'fail') AS failed,
                  coalesce(sum(CASE WHEN status = 'fail' THEN 0 ELSE cost_usd END), 0) AS usd,
                  coalesce(sum(CASE WHEN status = 'fail' THEN 0 ELSE upstream_usd END), 0) AS upstream_usd
             FROM tasks WHERE key_id = $1 AND created >= $2 AND created < $3
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
          [keyId, from, to],
        ),
    },
    idempotency: {
      async claim(keyId, key, hash, rules) {
        // A key released between the insert's conflict and the lock is simply claimed on the next round.
        for (let round = 0; ; round++) {
          const outcome = await inTransaction(pool, async (c): Promise<ClaimOutcome | null> => {
            const inserted = await c.query(
              `INSERT INTO idempotency (key_id, idem_key, body_hash, task_id, created_ms) VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING`,
              [keyId, key, hash, rules.nowMs],
            );
            if (inserted.rowCount === 1) return { state: 'claimed' };
            const row = (await c.query<IdempotencyRow>(`SELECT body_hash, task_id, created_ms FROM idempotency WHERE key_id = $1 AND idem_key = $2 FOR UPDATE`, [keyId, key])).rows[0];
            if (!row) return null;
            const answer = judgeClaim(row, hash, rules);
            if (answer) return answer;
            // expired, or abandoned mid-create: taken over
            await c.query(`UPDATE idempotency SET body_hash = $3, task_id = NULL, created_ms = $4 WHERE key_id = $1 AND idem_key = $2`, [keyId, key, hash, rules.nowMs]);
            return { state: 'claimed' };
          });
          if (outcome) return outcome;
          if (round >= 5) throw new Error('could not claim the idempotency key: it kept changing under the claim');
        }
      },
      release: async (keyId, key) => void (await pool.query(`DELETE FROM idempotency WHERE key_id = $1 AND idem_key = $2 AND task_id IS NULL`, [keyId, key])),
      purge: async (before) => void (await pool.query(`DELETE FROM idempotency WHERE created_ms < $1`, [before])),
    },
    keys: {
      byHash: (hash) => one<KeyRow>(`SELECT * FROM api_keys WHERE hash = $1`, [hash]),
      byId: (id) => one<KeyRow>(`SELECT * FROM api_keys WHERE id = $1`, [id]),
      async insert(r, o = {}) {
        await pool.query(
          `INSERT INTO api_keys (id, name, hash, prefix, webhook_secret, budget_usd, source, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)${o.ifAbsent ? ' ON CONFLICT DO NOTHING' : ''}`,
          [r.id, r.name, r.hash, r.prefix, r.webhook_secret, r.budget_usd, r.source, r.created],
        );
      },
      list: () => q<KeyRow>(`SELECT id, name, prefix, webhook_secret, budget_usd, source, created, revoked FROM api_keys ORDER BY created, id`),
      revoke: async (id, at) => ((await pool.query(`UPDATE api_keys SET revoked = $1 WHERE id = $2 AND revoked IS NULL`, [at, id])).rowCount ?? 0) > 0,
      activeCount: async () => (await one<{ n: number }>(`SELECT count(*) AS n FROM api_keys WHERE revoked IS NULL AND source = 'db'`))!.n,
    },
    callbacks: {
      async record(a) {
        await pool.query(
          `INSERT INTO callback_attempts (task_id, attempt, at_ms, status_code, error, ok) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (task_id, attempt) DO UPDATE SET at_ms = EXCLUDED.at_ms, status_code = EXCLUDED.status_code, error = EXCLUDED.error, ok = EXCLUDED.ok`,
          [a.taskId, a.attempt, a.atMs, a.statusCode, a.error, a.ok],
        );
      },
      list: async (taskId) =>
        (
          await q<{ task_id: string; attempt: number; at_ms: number; status_code: number | null; error: string | null; ok: boolean }>(
            `SELECT * FROM callback_attempts WHERE task_id = $1 ORDER BY attempt`,
            [taskId],
          )
        ).map((r): CallbackAttempt => ({ taskId: r.task_id, attempt: r.attempt, atMs: r.at_ms, statusCode: r.status_code, error: r.error, ok: r.ok })),
    },
    uploads: {
      insert: async (u) =>
        void (await pool.query(`INSERT INTO uploads (id, key_id, blob, mime, bytes, created) VALUES ($1, $2, $3, $4, $5, $6)`, [u.id, u.key_id, u.blob, u.mime, u.bytes, u.created])),
      remove: async (id) => void (await pool.query(`DELETE FROM uploads WHERE id = $1`, [id])),
    },
    settings: {
      async getOrInit(name, value) {
        await pool.query(`INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, value]);
        return (await one<{ value: string }>(`SELECT value FROM settings WHERE name = $1`, [name]))!.value;
      },
    },
    outputs: {
      async list(keyId, now, limit, offset) {
        const rows = await q<{ id: string; model: string; completed: number; idx: number; output: StoredOutput }>(
          `SELECT t.id, t.model, t.completed, o.ord - 1 AS idx, o.value AS output ${LISTED}
            ORDER BY t.completed DESC, t.id DESC, o.ord LIMIT $3 OFFSET $4`,
          [keyId, now, limit, offset],
        );
        return rows.map((r): ListedOutput => ({ taskId: r.id, model: r.model, completed: r.completed, index: r.idx, output: r.output }));
      },
      count: async (keyId, now) => (await one<{ n: number }>(`SELECT count(*) AS n ${LISTED}`, [keyId, now]))!.n,
      async owned(taskId, keyId) {
        const row = await one<{ outputs: string | null }>(`SELECT outputs FROM tasks WHERE id = $1 AND key_id = $2 AND status = 'success'`, [taskId, keyId]);
        return row ? (JSON.parse(row.outputs ?? '[]') as StoredOutput[]) : null;
      },
      persistentBytes: async (keyId) =>
        (
          await one<{ n: number }>(
            `SELECT coalesce(sum((o.value->>'bytes')::bigint), 0) AS n FROM tasks t CROSS JOIN LATERAL jsonb_array_elements(t.outputs::jsonb) o(value)
              WHERE t.key_id = $1 AND t.status = 'success' AND t.outputs IS NOT NULL AND o.value->'persistent' IS NOT NULL AND o.value->'deleted' IS NULL`,
            [keyId],
          )
        )!.n,
      edit: (taskId, keyId, edit) =>
        inTransaction(pool, async (c) => {
          const row = (await c.query<{ outputs: string | null }>(`SELECT outputs FROM tasks WHERE id = $1 AND key_id = $2 AND status = 'success' FOR UPDATE`, [taskId, keyId])).rows[0];
          if (!row) return false;
          const outs = JSON.parse(row.outputs ?? '[]') as StoredOutput[];
          if (!edit(outs)) return false;
          await c.query(`UPDATE tasks SET outputs = $2, storage = $3 WHERE id = $1`, [taskId, JSON.stringify(outs), outs.some((x) => x.persistent && !x.deleted) ? 'persistent' : 'temp']);
          return true;
        }),
    },
    sweep: {
      expiredTasks: async (cutoff) =>
        (await q<{ id: string; outputs: string | null }>(`SELECT id, outputs FROM tasks WHERE NOT swept AND status = 'success' AND completed > 0 AND completed < $1 LIMIT 500`, [cutoff])).map(
          (r) => ({ id: r.id, outputs: JSON.parse(r.outputs ?? '[]') as StoredOutput[] }),
        ),
      markTaskSwept: async (id) => void (await pool.query(`UPDATE tasks SET swept = true WHERE id = $1`, [id])),
      expiredUploads: (cutoff) => q<{ id: string; blob: string }>(`SELECT id, blob FROM uploads WHERE NOT swept AND created < $1 LIMIT 500`, [cutoff]),
      markUploadSwept: async (id) => void (await pool.query(`UPDATE uploads SET swept = true WHERE id = $1`, [id])),
      liveSources: async () =>
        (
          await q<{ key: string }>(
            `SELECT j AS key FROM tasks t CROSS JOIN LATERAL jsonb_array_elements_text(t.sources::jsonb) j
              WHERE NOT t.swept AND t.status != 'fail' AND t.sources IS NOT NULL
             UNION
             SELECT j FROM tasks c JOIN tasks p ON p.id = c.parent_id CROSS JOIN LATERAL jsonb_array_elements_text(p.sources::jsonb) j
              WHERE NOT c.swept AND c.status NOT IN ('success', 'fail') AND p.sources IS NOT NULL`,
          )
        ).map((r) => r.key),
      uploadKnown: async (blob) => (await one(`SELECT 1 FROM uploads WHERE blob = $1 LIMIT 1`, [blob])) !== undefined,
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
