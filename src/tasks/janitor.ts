import type { Logger } from 'pino';
import type { BlobStore } from '../store/blobs/local-blobs.js';
import type { Db } from '../store/sqlite/database.js';
import type { StoredOutput } from './service.js';

export interface JanitorDeps {
  db: Db;
  blobs: BlobStore;
  logger: Logger;
  outputTtlSeconds: number;
  /** finished job rows are kept this long for inspection */
  jobRetentionSeconds?: number;
  /** a file nothing refers to (a source image, an upload) is kept this long: a run or an upload may be about to record it */
  graceSeconds?: number;
  nowMs?: () => number;
}

/**
 * Keeps the data dir from growing without bound: output and upload files are deleted once their
 * links have expired (the task rows stay, so history and usage are unchanged), and finished job
 * rows are dropped after a week. Source images kept for later turns (`sources/`) are deleted once
 * no task can build on them any more: no unexpired output, no unfinished task, no unfinished child.
 */
export function createJanitor(deps: JanitorDeps) {
  const { db, blobs } = deps;
  const now = deps.nowMs ?? Date.now;
  const log = deps.logger.child({ module: 'janitor' });
  const graceMs = (deps.graceSeconds ?? 3600) * 1000;
  const expiredTasks = db.prepare(`SELECT id, outputs FROM tasks WHERE swept = 0 AND status = 'success' AND completed > 0 AND completed < ? LIMIT 500`);
  const markTask = db.prepare(`UPDATE tasks SET swept = 1 WHERE id = ?`);
  const expiredUploads = db.prepare(`SELECT id, blob FROM uploads WHERE swept = 0 AND created < ? LIMIT 500`);
  const markUpload = db.prepare(`UPDATE uploads SET swept = 1 WHERE id = ?`);
  const dropJobs = db.prepare(`DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_ms < ?`);
  // Only unswept rows can still be built on (an expired task's links are dead, so it cannot be a
  // parent); the tasks_sweep index keeps this to the live window. A queued child has not recorded
  // its sources yet, so its parent's count as live too.
  const liveSources = db.prepare(`
    SELECT j.value AS key FROM tasks t, json_each(t.sources) j
     WHERE t.swept = 0 AND t.status != 'fail' AND t.sources IS NOT NULL
    UNION
    SELECT j.value FROM tasks c JOIN tasks p ON p.id = c.parent_id, json_each(p.sources) j
     WHERE c.swept = 0 AND c.status NOT IN ('success', 'fail') AND p.sources IS NOT NULL`).pluck();

  const knownUpload = db.prepare(`SELECT 1 FROM uploads WHERE blob = ?`).pluck();

  /**
   * Upload files with no row: left by a crash between the row's rollback and the file's removal, or
   * by versions that wrote the file before the row. Nothing can link to them, so they go once they
   * are older than the grace (an upload in flight writes its row first, then its file).
   */
  async function sweepOrphanUploads(): Promise<number> {
    let removed = 0;
    for (const b of await blobs.list('uploads')) {
      if (b.mtimeMs >= now() - graceMs || knownUpload.get(b.key)) continue;
      await blobs.remove(b.key);
      removed++;
    }
    return removed;
  }

  async function sweepSources(): Promise<number> {
    const old = (await blobs.list('sources')).filter((b) => b.mtimeMs < now() - graceMs);
    if (old.length === 0) return 0;
    const live = new Set(liveSources.all() as string[]);
    let removed = 0;
    for (const b of old) {
      if (live.has(b.key)) continue;
      await blobs.remove(b.key);
      removed++;
    }
    return removed;
  }

  async function sweep(): Promise<{ outputs: number; uploads: number; sources: number; jobs: number }> {
    const nowSec = Math.floor(now() / 1000);
    const cutoff = nowSec - deps.outputTtlSeconds;
    let outputs = 0;
    for (const row of expiredTasks.all(cutoff) as Array<{ id: string; outputs: string | null }>) {
      const outs = JSON.parse(row.outputs ?? '[]') as StoredOutput[];
      // Each output carries its own expiry; sweep only once all have passed.
      if (outs.some((o) => o.expireAt >= nowSec)) continue;
      for (const o of outs) await blobs.remove(o.key);
      markTask.run(row.id);
      outputs += outs.length;
    }
    let uploads = 0;
    for (const row of expiredUploads.all(cutoff) as Array<{ id: string; blob: string }>) {
      await blobs.remove(row.blob);
      markUpload.run(row.id);
      uploads++;
    }
    uploads += await sweepOrphanUploads();
    // after the outputs: a task swept just now no longer keeps its sources
    const sources = await sweepSources();
    const jobs = dropJobs.run(now() - (deps.jobRetentionSeconds ?? 7 * 86400) * 1000).changes;
    if (outputs + uploads + sources + jobs > 0) log.info({ outputs, uploads, sources, jobs }, 'swept expired files and old jobs');
    return { outputs, uploads, sources, jobs };
  }

  let timer: NodeJS.Timeout | null = null;
  return {
    sweep,
    start(intervalMs = 10 * 60_000) {
      const tick = () => {
        sweep()
          .catch((err: unknown) => log.error({ err }, 'sweep failed'))
          .finally(() => {
            if (timer) timer = setTimeout(tick, intervalMs).unref();
          });
      };
      timer = setTimeout(tick, 5_000).unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
