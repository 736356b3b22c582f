import type pg from 'pg';

/**
 * The Postgres schema, applied in order and recorded in `reshoot_migrations`. The same tables as the
 * SQLite store (text columns hold the same JSON), with Postgres types. Never edit a shipped migration;
 * add the next one.
 */
export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    webhook_secret TEXT,
    budget_usd DOUBLE PRECISION,
    source TEXT NOT NULL DEFAULT 'db',
    created BIGINT NOT NULL,
    revoked BIGINT
  );

  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    created BIGINT NOT NULL,
    completed BIGINT NOT NULL DEFAULT 0,
    storage TEXT NOT NULL DEFAULT 'temp',
    route TEXT,
    input TEXT NOT NULL,
    callback_url TEXT,
    outputs TEXT,
    error_code TEXT,
    error_message TEXT,
    reshoot TEXT,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    parent_id TEXT,
    updated_ms BIGINT NOT NULL,
    sources TEXT,
    seed BIGINT,
    swept BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX tasks_key_created ON tasks (key_id, created DESC, id DESC);
  CREATE INDEX tasks_status ON tasks (status);
  CREATE INDEX tasks_sweep ON tasks (swept, completed);
  CREATE INDEX tasks_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;

  CREATE TABLE idempotency (
    key_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    task_id TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (key_id, idem_key)
  );
  CREATE INDEX idempotency_created ON idempotency (created_ms);

  CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    queue TEXT NOT NULL,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at_ms BIGINT NOT NULL,
    lease_until_ms BIGINT,
    lease_owner TEXT,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
  );
  CREATE INDEX jobs_ready ON jobs (queue, state, run_at_ms);

  CREATE TABLE callback_attempts (
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at_ms BIGINT NOT NULL,
    status_code INTEGER,
    error TEXT,
    ok BOOLEAN NOT NULL,
    PRIMARY KEY (task_id, attempt)
  );

  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    blob TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    created BIGINT NOT NULL,
    swept BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX uploads_blob ON uploads (blob);

  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: the generative upstream's task id (JSON { engine, taskId }), stored as soon as the upstream
  // created it, so a job run again polls that task instead of creating another.
  `
  ALTER TABLE tasks ADD COLUMN upstream TEXT;
  `,
  // 3: which engine a task was priced for and the upstream's part of its price (usage per engine).
  `
  ALTER TABLE tasks ADD COLUMN engine TEXT;
  ALTER TABLE tasks ADD COLUMN upstream_usd DOUBLE PRECISION NOT NULL DEFAULT 0;
  `,
  // 4: when the generative upstream's callback said its task is final (ms): the worker polling that
  // task, maybe in another process, asks the upstream at once instead of at its next safety poll.
  `
  ALTER TABLE tasks ADD COLUMN upstream_final BIGINT;
  `,
];

/**
 * Brings the schema up to date. Several processes may start at once: an advisory lock makes the
 * others wait, then find nothing left to apply. Answers the versions applied now.
 */
export async function migratePostgres(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('reshoot.migrate'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS reshoot_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)`);
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM reshoot_migrations`);
    const current = rows[0]?.v ?? 0;
    const applied: number[] = [];
    for (let v = current; v < PG_MIGRATIONS.length; v++) {
      await client.query(PG_MIGRATIONS[v]!);
      await client.query(`INSERT INTO reshoot_migrations (version, applied_ms) VALUES ($1, $2)`, [v + 1, Date.now()]);
      applied.push(v + 1);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
