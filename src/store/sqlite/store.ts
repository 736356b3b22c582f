import type { Db } from './database.js';
import {
  judgeClaim,
  type CallbackAttempt,
  type ClaimOutcome,
  type CreateOutcome,
  type KeyRow,
  type ListedOutput,
  type Store,
  type StoredOutput,
  type TaskRow,
  type UsageDay,
} from '../types.js';

/**
 * The repositories on one SQLite database (the embedded default). better-sqlite3 is synchronous, so
 * each method's work happens at once; an IMMEDIATE transaction takes the write lock before it reads,
 * which makes a claim or a create with its budget check atomic across processes on the same file.
 * The local job queue shares the handle, so a task and its job commit together.
 */
export function createSqliteStore(db: Db, opts: { close?: () => void } = {}): Store {
  const stmt = {
    idemGet: db.prepare(`SELECT body_hash, task_id, created_ms FROM idempotency WHERE key_id = ? AND idem_key = ?`),
    idemClaim: db.prepare(`INSERT OR REPLACE INTO idempotency (key_id, idem_key, body_hash, task_id, created_ms) VALUES (?, ?, ?, NULL, ?)`),
    idemDone: db.prepare(`UPDATE idempotency SET task_id = ? WHERE key_id = ? AND idem_key = ?`),
    idemDrop: db.prepare(`DELETE FROM idempotency WHERE key_id = ? AND idem_key = ? AND task_id IS NULL`),
    idemPurge: db.prepare(`DELETE FROM idempotency WHERE created_ms < ?`),
    insert: db.prepare(
      `INSERT INTO tasks (id, key_id, model, status, created, storage, route, input, callback_url, cost_usd, engine, upstream_usd, parent_id, updated_ms)
       VALUES (@id, @key_id, @model, 'queued', @created, @storage, @route, @input, @callback_url, @cost_usd, @engine, @upstream_usd, @parent_id, @updated_ms)`,
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
    // another upstream task than the one stored (created again) has had no callback yet
    recordUpstream: db.prepare(
      `UPDATE tasks SET upstream_final = CASE WHEN upstream IS NOT NULL AND upstream != @upstream THEN NULL ELSE upstream_final END, upstream = @upstream
       WHERE id = @id AND status NOT IN ('success', 'fail')`,
    ),
    markUpstreamFinal: db.prepare(`UPDATE tasks SET upstream_final = ? WHERE id = ? AND upstream_final IS NULL AND status NOT IN ('success', 'fail')`),
    upstreamFinal: db.prepare(`SELECT status, upstream_final FROM tasks WHERE id = ?`),
    queuedBefore: db.prepare(`SELECT id FROM tasks WHERE status = 'queued' AND updated_ms < ? ORDER BY updated_ms LIMIT ?`).pluck(),
    byStatus: db.prepare(`SELECT status, count(*) AS n FROM tasks GROUP BY status`),
    spent: db.prepare(`SELECT coalesce(sum(cost_usd), 0) AS usd FROM tasks WHERE key_id = ? AND status != 'fail'`),
    usage: db.prepare(
      `SELECT date(created, 'unixepoch') AS day, model, coalesce(engine, CASE WHEN route IN ('studio', 'hiapi', 'openai', 'comfyui') THEN route ELSE 'studio' END) AS engine, count(*) AS tasks,
              sum(status = 'success') AS succeeded, sum(status = 'fail') AS failed,
              coalesce(sum(CASE WHEN status = 'fail' THEN 0 ELSE cost_usd END), 0) AS usd,
              coalesce(sum(CASE WHEN status = 'fail' THEN 0 ELSE upstream_usd END), 0) AS upstream_usd
       FROM tasks WHERE key_id = ? AND created >= ? AND created < ?
       GROUP BY day, model, 3 ORDER BY day, model, 3`,
    ),

    keyByHash: db.prepare(`SELECT * FROM api_keys WHERE hash = ?`),
    keyById: db.prepare(`SELECT * FROM api_keys WHERE id = ?`),
    keyInsert: db.prepare(
      `INSERT INTO api_keys (id, name, hash, prefix, webhook_secret, budget_usd, source, created) VALUES (@id, @name, @hash, @prefix, @webhook_secret, @budget_usd, @source, @created)`,
    ),
    keyInsertIfAbsent: db.prepare(
      `INSERT INTO api_keys (id, name, hash, prefix, webhook_secret, budget_usd, source, created) VALUES (@id, @name, @hash, @prefix, @webhook_secret, @budget_usd, @source, @created)
       ON CONFLICT DO NOTHING`,
    ),
    keyList: db.prepare(`SELECT * FROM api_keys ORDER BY created, id`),
    keyRevoke: db.prepare(`UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL`),
    keyActive: db.prepare(`SELECT count(*) AS n FROM api_keys WHERE revoked IS NULL AND source = 'db'`),

    callbackRecord: db.prepare(`INSERT OR REPLACE INTO callback_attempts (task_id, attempt, at_ms, status_code, error, ok) VALUES (?, ?, ?, ?, ?, ?)`),
    callbackList: db.prepare(`SELECT * FROM callback_attempts WHERE task_id = ? ORDER BY attempt`),

    uploadInsert: db.prepare(`INSERT INTO uploads (id, key_id, blob, mime, bytes, created) VALUES (@id, @key_id, @blob, @mime, @bytes, @created)`),
    uploadRemove: db.prepare(`DELETE FROM uploads WHERE id = ?`),

    settingGet: db.prepare(`SELECT value FROM settings WHERE name = ?`).pluck(),
    settingInit: db.prepare(`INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)`),

    ownedOutputs: db.prepare(`SELECT id, outputs, storage FROM tasks WHERE id = ? AND key_id = ? AND status = 'success'`),
    saveOutputs: db.prepare(`UPDATE tasks SET outputs = ?, storage = ? WHERE id = ?`),
    // Sizes are kept on each output (older outputs get theirs when promoted), so the cap is one query.
    persistentSum: db
      .prepare(
        `SELECT coalesce(sum(json_extract(o.value, '$.bytes')), 0) FROM tasks t, json_each(t.outputs) o
          WHERE t.key_id = ? AND t.status = 'success' AND json_extract(o.value, '$.persistent') IS NOT NULL AND json_extract(o.value, '$.deleted') IS NULL`,
      )
      .pluck(),

    expiredTasks: db.prepare(`SELECT id, outputs FROM tasks WHERE swept = 0 AND status = 'success' AND completed > 0 AND completed < ? LIMIT 500`),
    markTask: db.prepare(`UPDATE tasks SET swept = 1 WHERE id = ?`),
    expiredUploads: db.prepare(`SELECT id, blob FROM uploads WHERE swept = 0 AND created < ? LIMIT 500`),
    markUpload: db.prepare(`UPDATE uploads SET swept = 1 WHERE id = ?`),
    // Only unswept rows can still be built on (an expired task's links are dead, so it cannot be a
    // parent); the tasks_sweep index keeps this to the live window. A queued child has not recorded
    // its sources yet, so its parent's count as live too.
    liveSources: db
      .prepare(
        `SELECT j.value AS key FROM tasks t, json_each(t.sources) j
          WHERE t.swept = 0 AND t.status != 'fail' AND t.sources IS NOT NULL
         UNION
         SELECT j.value FROM tasks c JOIN tasks p ON p.id = c.parent_id, json_each(p.sources) j
          WHERE c.swept = 0 AND c.status NOT IN ('success', 'fail') AND p.sources IS NOT NULL`,
      )
      .pluck(),
    knownUpload: db.prepare(`SELECT 1 FROM uploads WHERE blob = ?`).pluck(),
  };

  // An output is listed until it is deleted or, when temp, until its link expires.
  const listed = `FROM tasks t, json_each(t.outputs) o
        WHERE t.key_id = @keyId AND t.status = 'success' AND t.swept = 0 AND t.outputs IS NOT NULL
          AND json_extract(o.value, '$.deleted') IS NULL
          AND (json_extract(o.value, '$.persistent') IS NOT NULL OR json_extract(o.value, '$.expireAt') >= @now)`;
  const outputCount = db.prepare(`SELECT count(*) ${listed}`).pluck();
  const outputPage = db.prepare(
    `SELECT t.id, t.model, t.completed, o.key AS idx, o.value AS output ${listed}
      ORDER BY t.completed DESC, t.id DESC, o.key LIMIT @limit OFFSET @offset`,
  );

  const createTx = db.transaction((task: Parameters<Store['tasks']['create']>[0], o: Parameters<Store['tasks']['create']>[1]): CreateOutcome => {
    if (o.budgetUsd != null && task.cost_usd > 0) {
      const spentUsd = (stmt.spent.get(task.key_id) as { usd: number }).usd;
      if (spentUsd + task.cost_usd > o.budgetUsd + 1e-9) return { created: false, spentUsd };
    }
    stmt.insert.run(task);
    const queued = o.enqueue({ kind: 'sqlite', db });
    if (queued instanceof Promise) throw new Error('the job queue must enqueue synchronously inside a SQLite transaction');
    if (o.idempotencyKey !== undefined) stmt.idemDone.run(task.id, task.key_id, o.idempotencyKey);
    return { created: true };
  });

  const claimTx = db.transaction((keyId: string, key: string, hash: string, rules: Parameters<Store['idempotency']['claim']>[3]): ClaimOutcome => {
    const row = stmt.idemGet.get(keyId, key) as { body_hash: string; task_id: string | null; created_ms: number } | undefined;
    const answer = judgeClaim(row, hash, rules);
    if (answer) return answer;
    stmt.idemClaim.run(keyId, key, hash, rules.nowMs);
    return { state: 'claimed' };
  });

  const editTx = db.transaction((taskId: string, keyId: string, edit: (o: StoredOutput[]) => boolean): boolean => {
    const row = stmt.ownedOutputs.get(taskId, keyId) as { id: string; outputs: string | null } | undefined;
    if (!row) return false;
    const outs = JSON.parse(row.outputs ?? '[]') as StoredOutput[];
    if (!edit(outs)) return false;
    stmt.saveOutputs.run(JSON.stringify(outs), outs.some((x) => x.persistent && !x.deleted) ? 'persistent' : 'temp', row.id);
    return true;
  });

  /**
   * The terminal transition. all(), not get(): a statement with RETURNING commits when it runs to
   * completion, so a commit that fails (a full disk) throws here instead of returning a row that was
   * never saved.
   */
  const finish = (params: object): TaskRow | null => (stmt.finish.all(params) as TaskRow[])[0] ?? null;

  return {
    kind: 'sqlite',
    tasks: {
      create: async (task, o) => createTx.immediate(task, o),
      get: async (id) => stmt.get.get(id) as TaskRow | undefined,
      getOwned: async (id, keyId) => stmt.getOwned.get(id, keyId) as TaskRow | undefined,
      list: async (keyId, limit, offset) => stmt.list.all(keyId, limit, offset) as TaskRow[],
      count: async (keyId) => (stmt.count.get(keyId) as { n: number }).n,
      advance: async (id, status, reshoot, now) => stmt.advance.run({ id, status, reshoot, now }).changes > 0,
      finish: async (f) => finish(f),
      recordRun: async (id, sources, seed) => void stmt.recordRun.run(sources, seed, id),
      recordUpstream: async (id, upstream) => stmt.recordUpstream.run({ upstream, id }).changes > 0,
      markUpstreamFinal: async (id, now) => {
        if (stmt.markUpstreamFinal.run(now, id).changes > 0) return 'marked';
        const row = stmt.upstreamFinal.get(id) as { status: string } | undefined;
        return !row ? 'unknown' : row.status === 'success' || row.status === 'fail' ? 'finished' : 'again';
      },
      upstreamFinal: async (id) => (stmt.upstreamFinal.get(id) as { upstream_final: number | null } | undefined)?.upstream_final ?? null,
      queuedBefore: async (before, limit) => stmt.queuedBefore.all(before, limit) as string[],
      countByStatus: async () => stmt.byStatus.all() as Array<{ status: string; n: number }>,
      spent: async (keyId) => (stmt.spent.get(keyId) as { usd: number }).usd,
      usage: async (keyId, from, to) => stmt.usage.all(keyId, from, to) as UsageDay[],
    },
    idempotency: {
      claim: async (keyId, key, hash, rules) => claimTx.immediate(keyId, key, hash, rules),
      release: async (keyId, key) => void stmt.idemDrop.run(keyId, key),
      purge: async (before) => void stmt.idemPurge.run(before),
    },
    keys: {
      byHash: async (hash) => stmt.keyByHash.get(hash) as KeyRow | undefined,
      byId: async (id) => stmt.keyById.get(id) as KeyRow | undefined,
      insert: async (row, o = {}) => void (o.ifAbsent ? stmt.keyInsertIfAbsent : stmt.keyInsert).run(keyParams(row)),
      list: async () => stmt.keyList.all() as KeyRow[],
      revoke: async (id, at) => stmt.keyRevoke.run(at, id).changes > 0,
      activeCount: async () => (stmt.keyActive.get() as { n: number }).n,
    },
    callbacks: {
      record: async (a) => void stmt.callbackRecord.run(a.taskId, a.attempt, a.atMs, a.statusCode, a.error, a.ok ? 1 : 0),
      list: async (taskId) =>
        (stmt.callbackList.all(taskId) as Array<{ task_id: string; attempt: number; at_ms: number; status_code: number | null; error: string | null; ok: number }>).map(
          (r): CallbackAttempt => ({ taskId: r.task_id, attempt: r.attempt, atMs: r.at_ms, statusCode: r.status_code, error: r.error, ok: r.ok === 1 }),
        ),
    },
    uploads: {
      insert: async (u) => void stmt.uploadInsert.run(u),
      remove: async (id) => void stmt.uploadRemove.run(id),
    },
    settings: {
      async getOrInit(name, value) {
        stmt.settingInit.run(name, value);
        return stmt.settingGet.get(name) as string;
      },
    },
    outputs: {
      async list(keyId, now, limit, offset) {
        const rows = outputPage.all({ keyId, now, limit, offset }) as Array<{ id: string; model: string; completed: number; idx: number; output: string }>;
        return rows.map((r): ListedOutput => ({ taskId: r.id, model: r.model, completed: r.completed, index: r.idx, output: JSON.parse(r.output) as StoredOutput }));
      },
      count: async (keyId, now) => outputCount.get({ keyId, now }) as number,
      async owned(taskId, keyId) {
        const row = stmt.ownedOutputs.get(taskId, keyId) as { outputs: string | null } | undefined;
        return row ? (JSON.parse(row.outputs ?? '[]') as StoredOutput[]) : null;
      },
      persistentBytes: async (keyId) => stmt.persistentSum.get(keyId) as number,
      edit: async (taskId, keyId, edit) => editTx.immediate(taskId, keyId, edit),
    },
    sweep: {
      expiredTasks: async (cutoff) =>
        (stmt.expiredTasks.all(cutoff) as Array<{ id: string; outputs: string | null }>).map((r) => ({ id: r.id, outputs: JSON.parse(r.outputs ?? '[]') as StoredOutput[] })),
      markTaskSwept: async (id) => void stmt.markTask.run(id),
      expiredUploads: async (cutoff) => stmt.expiredUploads.all(cutoff) as Array<{ id: string; blob: string }>,
      markUploadSwept: async (id) => void stmt.markUpload.run(id),
      liveSources: async () => stmt.liveSources.all() as string[],
      uploadKnown: async (blob) => stmt.knownUpload.get(blob) !== undefined,
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      if (opts.close) opts.close();
      else db.close();
    },
  };
}

const keyParams = (row: KeyRow & { hash: string }) => ({
  id: row.id,
  name: row.name,
  hash: row.hash,
  prefix: row.prefix,
  webhook_secret: row.webhook_secret,
  budget_usd: row.budget_usd,
  source: row.source,
  created: row.created,
});
