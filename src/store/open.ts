import path from 'node:path';
import type pg from 'pg';
import type { Config } from '../config.js';
import { migratePostgres } from './postgres/migrations.js';
import { createPostgresPool, createPostgresStore } from './postgres/store.js';
import { openDatabase, type Db } from './sqlite/database.js';
import { createSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export const databasePath = (config: Config): string => path.join(config.dataDir, 'reshoot.db');

/** The store and the handle under it (the job queue and the WAL checkpointer share it). */
export type OpenedStore =
  | { kind: 'sqlite'; store: Store; db: Db; file: string }
  | { kind: 'postgres'; store: Store; pool: pg.Pool; /** migration versions this open applied */ migrated: number[] };

/**
 * Opens the configured database and brings its schema up to date: SQLite in the data dir, or the
 * Postgres server of RESHOOT_DATABASE_URL.
 */
export async function openStore(config: Config, opts: { onPoolError?: (err: Error) => void } = {}): Promise<OpenedStore> {
  if (config.database.kind === 'postgres') {
    const pool = createPostgresPool(config.database.url, { onError: opts.onPoolError });
    try {
      const migrated = await migratePostgres(pool);
      return { kind: 'postgres', store: createPostgresStore(pool), pool, migrated };
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }
  const file = databasePath(config);
  const db = openDatabase(file);
  return { kind: 'sqlite', store: createSqliteStore(db), db, file };
}
