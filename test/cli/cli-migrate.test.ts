import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/database.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { runCli } from './run-cli.js';

let cluster: TestPostgres | null = null;
afterAll(async () => cluster?.stop());

describe('reshoot migrate', () => {
  it('creates the SQLite schema in a new data dir, then says it is up to date', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-migrate-'));
    try {
      const first = await runCli(['migrate', '--data-dir', dir, '--json']);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ database: 'sqlite', applied: Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1), version: SQLITE_SCHEMA_VERSION });
      const again = await runCli(['migrate', '--data-dir', dir]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(`${path.join(dir, 'reshoot.db')}: schema up to date (version ${SQLITE_SCHEMA_VERSION})\n`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(postgresUnavailable !== null)('migrates a Postgres database named by --database-url, once; keys commands use it too', async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    const first = await runCli(['migrate', '--database-url', url]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^postgres: applied migration/);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const tables = (await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)).rows.map((r) => r.table_name);
      expect(tables).toEqual(['api_keys', 'callback_attempts', 'idempotency', 'jobs', 'reshoot_migrations', 'settings', 'tasks', 'uploads']);
      const again = await runCli(['migrate'], { RESHOOT_DATABASE_URL: url });
      expect(again.stdout).toBe(`postgres: schema up to date (version ${PG_MIGRATIONS.length})\n`);
      const made = await runCli(['keys', 'create', '--name', 'pg-bot', '--json'], { RESHOOT_DATABASE_URL: url, RESHOOT_DATA_DIR: path.join(os.tmpdir(), 'reshoot-no-such-dir') });
      expect(made.code).toBe(0);
      expect((await c.query(`SELECT name, source FROM api_keys`)).rows).toEqual([{ name: 'pg-bot', source: 'db' }]);
    } finally {
      await c.end();
    }
  });

  it('refuses a database URL that is not postgres:// with exit 2, without printing its password', async () => {
    const r = await runCli(['migrate', '--database-url', 'mysql://reshoot:hunter2@db/reshoot']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('RESHOOT_DATABASE_URL="mysql://reshoot:***@db/reshoot"');
    expect(r.stderr).not.toContain('hunter2');
  });
});
