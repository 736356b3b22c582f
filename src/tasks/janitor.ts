import type { Logger } from 'pino';
import type { BlobStore } from '../store/blobs/local-blobs.js';
import type { Store } from '../store/types.js';

export interface JanitorDeps {
  store: Store;
  /** its finished jobs are dropped after `jobRetentionSeconds` */
  queue?: { prune(beforeMs: number): number | Promise<number> };
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
  const { blobs } = deps;
  const { sweep: repo } = deps.store;
  const now = deps.nowMs ?? Date.now;
  const log = deps.logger.child({ module: 'janitor' });
  const graceMs = (deps.graceSeconds ?? 3600) * 1000;

  /**
   * Upload files with no row: left by a crash between the row's rollback and the file's removal, or
   * by versions that wrote the file before the row. Nothing can link to them, so they go once they
   * are older than the grace (an upload in flight writes its row first, then its file).
   */
  async function sweepOrphanUploads(): Promise<number> {
    let removed = 0;
    for (const b of await blobs.list('uploads')) {
      if (b.mtimeMs >= now() - graceMs || (await repo.uploadKnown(b.key))) continue;
      await blobs.remove(b.key);
      removed++;
    }
    return removed;
  }

  async function sweepSources(): Promise<number> {
    const old = (await blobs.list('sources')).filter((b) => b.mtimeMs < now() - graceMs);
    if (old.length === 0) return 0;
    const live = new Set(await repo.liveSources());
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
    for (const row of await repo.expiredTasks(cutoff)) {
      const outs = row.outputs;
      // Each output carries its own expiry; sweep only once all have passed.
      if (outs.some((o) => o.expireAt >= nowSec)) continue;
      for (const o of outs) await blobs.remove(o.key);
      // the mattes kept beside the output (Fix cutout) go with it, and a layout left for the hiapi upstream
      for (const b of await blobs.list(`tasks/${row.id}`)) if (/\/(matte-\d+|upstream-layout)\.png$/.test(b.key)) await blobs.remove(b.key);
      await repo.markTaskSwept(row.id);
      outputs += outs.length;
    }
    let uploads = 0;
    for (const row of await repo.expiredUploads(cutoff)) {
      await blobs.remove(row.blob);
      await repo.markUploadSwept(row.id);
      uploads++;
    }
    uploads += await sweepOrphanUploads();
    // after the outputs: a task swept just now no longer keeps its sources
    const sources = await sweepSources();
    const jobs = (await deps.queue?.prune(now() - (deps.jobRetentionSeconds ?? 7 * 86400) * 1000)) ?? 0;
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
