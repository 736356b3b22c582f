import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../config.js';
import { migratePostgres, PG_MIGRATIONS } from './postgres/migrations.js';
import { createPostgresPool, createPostgresStore } from './postgres/store.js';
import { openDatabase, SQLITE_SCHEMA_VERSION, type Db } from './sqlite/database.js';
import { createSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export const databasePath = (config: Config): string => path.join(config.dataDir, 'reshoot.db');

/** The store and the handle under it (the job queue and the WAL checkpointer share it). */
export type OpenedStore = (
  | { kind: 'sqlite'; store: Store; db: Db; file: string }
  | { kind: 'postgres'; store: Store; pool: pg.Pool }
) & {
  /** schema versions this open applied (empty when it was up to date) */
  migrated: number[];
  /** the schema version the database is at now */
  schemaVersion: number;
};

/**
 * Opens the configured database and brings its schema up to date: SQLite in the data dir, or the
 * Postgres server of RESHOOT_DATABASE_URL.
 */
export async function openStore(config: Config, opts: { onPoolError?: (err: Error) => void } = {}): Promise<OpenedStore> {
  if (config.database.kind === 'postgres') {
    const pool = createPostgresPool(config.database.url, { onError: opts.onPoolError });
    try {
      const migrated = await migratePostgres(pool);
      return { kind: 'postgres', store: createPostgresStore(pool), pool, migrated, schemaVersion: PG_MIGRATIONS.length };
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }
  const file = databasePath(config);
  let migrated: number[] = [];
  const db = openDatabase(file, (versions) => (migrated = versions));
  return { kind: 'sqlite', store: createSqliteStore(db), db, file, migrated, schemaVersion: SQLITE_SCHEMA_VERSION };
}
