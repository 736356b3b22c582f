import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order and recorded in `user_version`. Never edit a shipped
 * migration; add the next one.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    webhook_secret TEXT,
    budget_usd REAL,
    source TEXT NOT NULL DEFAULT 'db',
    created INTEGER NOT NULL,
    revoked INTEGER
  );

  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    created INTEGER NOT NULL,
    completed INTEGER NOT NULL DEFAULT 0,
    storage TEXT NOT NULL DEFAULT 'temp',
    route TEXT,
    input TEXT NOT NULL,
    callback_url TEXT,
    outputs TEXT,
    error_code TEXT,
    error_message TEXT,
    reshoot TEXT,
    cost_usd REAL NOT NULL DEFAULT 0,
    parent_id TEXT,
    updated_ms INTEGER NOT NULL
  );
  CREATE INDEX tasks_key_created ON tasks (key_id, created DESC, id DESC);
  CREATE INDEX tasks_status ON tasks (status);

  CREATE TABLE idempotency (
    key_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    task_id TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (key_id, idem_key)
  );

  CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at_ms INTEGER NOT NULL,
    lease_until_ms INTEGER,
    lease_owner TEXT,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
  );
  CREATE INDEX jobs_ready ON jobs (queue, state, run_at_ms);

  CREATE TABLE callback_attempts (
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    ok INTEGER NOT NULL,
    PRIMARY KEY (task_id, attempt)
  );

  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    blob TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created INTEGER NOT NULL
  );

  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: what a later turn or scene_from needs: the stored source references and the seed used.
  `
  ALTER TABLE tasks ADD COLUMN sources TEXT;
  ALTER TABLE tasks ADD COLUMN seed INTEGER;
  `,
  // 3: expired output files are deleted by the janitor; the task row stays.
  `
  ALTER TABLE tasks ADD COLUMN swept INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE uploads ADD COLUMN swept INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX tasks_sweep ON tasks (swept, completed);
  `,
  // 4: the generative upstream's task id (JSON { engine, taskId }), stored as soon as the upstream
  // created it, so a job run again polls that task instead of creating another.
  `
  ALTER TABLE tasks ADD COLUMN upstream TEXT;
  `,
  // 5: which engine a task was priced for and the upstream's part of its price (usage per engine).
  `
  ALTER TABLE tasks ADD COLUMN engine TEXT;
  ALTER TABLE tasks ADD COLUMN upstream_usd REAL NOT NULL DEFAULT 0;
  `,
  // 6: when the generative upstream's callback said its task is final (ms): the worker polling that
  // task, maybe in another process, asks the upstream at once instead of at its next safety poll.
  `
  ALTER TABLE tasks ADD COLUMN upstream_final INTEGER;
  `,
];

/** The schema version this build writes (the number of migrations). */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the database in WAL mode and brings its schema up to date;
 * `onMigrated` hears the versions applied now, if any.
 */
export function openDatabase(file: string, onMigrated?: (versions: number[]) => void): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const applied = migrate(db);
  if (applied.length > 0) onMigrated?.(applied);
  return db;
}

function migrate(db: Db): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const applied: number[] = [];
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
    applied.push(v + 1);
  }
  return applied;
}
