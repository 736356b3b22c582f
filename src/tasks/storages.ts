import fs from 'node:fs/promises';
import { TASK_ID_RE } from '../contract/ids.js';
import type { BlobStore } from '../store/blobs/local-blobs.js';
import type { UrlSigner } from '../store/blobs/signed-urls.js';
import type { Db } from '../store/sqlite/database.js';
import { PERSISTENT_EXPIRE_AT, type StoredOutput } from './service.js';

/** One output as `/v1/storages` lists it. */
export interface StoredItem {
  /** `<taskId>.<index>`: what promote and delete take */
  id: string;
  task_id: string;
  model: string;
  url: string;
  type: 'image';
  storage_tier: 'temp' | 'persistent';
  bytes: number | null;
  created: number;
  expireAt: number;
}

/** Why an id was not promoted or deleted (the reasons hiapi documents for promote). */
export type StorageRejection = 'not_owned' | 'insufficient' | 'cap_exceeded' | 'not_promotable' | 'already_deleted';

export interface StorageBatchResult {
  accepted: string[];
  rejected: Array<{ id: string; reason: StorageRejection }>;
}

export interface StorageService {
  /** whether a new persistent output fits under the key's cap (false when persistent storage is off) */
  hasRoom(keyId: string): boolean;
  list(keyId: string, page: number, size: number): Promise<{ page: number; size: number; total: number; items: StoredItem[] }>;
  promote(keyId: string, ids: readonly string[], opts: { budgetLeftUsd: number | null }): Promise<StorageBatchResult>;
  remove(keyId: string, ids: readonly string[]): Promise<StorageBatchResult>;
}

export interface StorageDeps {
  db: Db;
  blobs: BlobStore;
  signer: UrlSigner;
  /** each key's room for persistent outputs, in bytes; 0 turns promotion off */
  capBytes: number;
  nowSec?: () => number;
}

interface Row {
  id: string;
  outputs: string;
}

/**
 * Outputs as hiapi's storage endpoints see them: every output of a successful task whose file still
 * exists, temp (it goes when its link expires) or persistent (kept until deleted). Promotion signs the
 * output's link to PERSISTENT_EXPIRE_AT and takes it out of the expiry sweep; the path stays the same.
 * Deletion removes the file at once. Both answer per id, with hiapi's partial-success shape.
 */
export function createStorageService(deps: StorageDeps): StorageService {
  const { db, blobs, signer } = deps;
  const nowSec = deps.nowSec ?? (() => Math.floor(Date.now() / 1000));
  // An output is listed until it is deleted or, when temp, until its link expires.
  const listed = `FROM tasks t, json_each(t.outputs) o
        WHERE t.key_id = @keyId AND t.status = 'success' AND t.swept = 0 AND t.outputs IS NOT NULL
          AND json_extract(o.value, '$.deleted') IS NULL
          AND (json_extract(o.value, '$.persistent') IS NOT NULL OR json_extract(o.value, '$.expireAt') >= @now)`;
  const count = db.prepare(`SELECT count(*) ${listed}`).pluck();
  const page = db.prepare(
    `SELECT t.id, t.model, t.completed, o.key AS idx, o.value AS output ${listed}
      ORDER BY t.completed DESC, t.id DESC, o.key LIMIT @limit OFFSET @offset`,
  );
  const owned = db.prepare(`SELECT id, outputs FROM tasks WHERE id = ? AND key_id = ? AND status = 'success'`);
  // Sizes are kept on each output (older outputs get theirs when promoted), so the cap is one query.
  const persistentSum = db
    .prepare(
      `SELECT coalesce(sum(json_extract(o.value, '$.bytes')), 0) FROM tasks t, json_each(t.outputs) o
        WHERE t.key_id = ? AND t.status = 'success' AND json_extract(o.value, '$.persistent') IS NOT NULL AND json_extract(o.value, '$.deleted') IS NULL`,
    )
    .pluck();
  const persistentBytes = (keyId: string): number => persistentSum.get(keyId) as number;
  const save = db.prepare(`UPDATE tasks SET outputs = ?, storage = ? WHERE id = ?`);

  const sizeOf = async (key: string): Promise<number | null> => {
    const file = await blobs.locate(key);
    return file ? (await fs.stat(file).catch(() => null))?.size ?? null : null;
  };

  const parseId = (id: string): { taskId: string; index: number } | null => {
    const m = /^(.+)\.(\d{1,3})$/.exec(id);
    return m && TASK_ID_RE.test(m[1]!) ? { taskId: m[1]!, index: Number(m[2]) } : null;
  };

  /**
   * Runs `prepare` (the checks and file work, which may wait) on each named output the key owns; it
   * answers a rejection or the change to make. The change is applied to the row as it is then, read
   * and written without a wait in between, so two requests on one task never undo each other.
   */
  async function batch(
    keyId: string,
    ids: readonly string[],
    prepare: (o: StoredOutput) => Promise<StorageRejection | ((o: StoredOutput) => void)>,
  ): Promise<StorageBatchResult> {
    const result: StorageBatchResult = { accepted: [], rejected: [] };
    const now = nowSec();
    const current = (ref: { taskId: string; index: number }) => {
      const row = owned.get(ref.taskId, keyId) as Row | undefined;
      const outs = row ? (JSON.parse(row.outputs) as StoredOutput[]) : [];
      return { row, outs, o: outs[ref.index] };
    };
    for (const id of ids) {
      const ref = parseId(id);
      const before = ref ? current(ref).o : undefined;
      if (!ref || !before) {
        result.rejected.push({ id, reason: 'not_owned' });
        continue;
      }
      if (before.deleted || (!before.persistent && before.expireAt < now)) {
        result.rejected.push({ id, reason: 'already_deleted' });
        continue;
      }
      const outcome = await prepare(before);
      if (typeof outcome === 'string') {
        result.rejected.push({ id, reason: outcome });
        continue;
      }
      const { row, outs, o } = current(ref);
      outcome(o!);
      save.run(JSON.stringify(outs), outs.some((x) => x.persistent && !x.deleted) ? 'persistent' : 'temp', row!.id);
      result.accepted.push(id);
    }
    return result;
  }

  return {
    hasRoom: (keyId) => deps.capBytes > 0 && persistentBytes(keyId) < deps.capBytes,

    async list(keyId, pageNo, size) {
      const now = nowSec();
      const rows = page.all({ keyId, now, limit: size, offset: (pageNo - 1) * size }) as Array<{ id: string; model: string; completed: number; idx: number; output: string }>;
      const items: StoredItem[] = [];
      for (const row of rows) {
        const o = JSON.parse(row.output) as StoredOutput;
        items.push({
          id: `${row.id}.${row.idx}`,
          task_id: row.id,
          model: row.model,
          url: signer.sign(o.key, o.expireAt),
          type: 'image',
          storage_tier: o.persistent ? 'persistent' : 'temp',
          bytes: o.bytes ?? (await sizeOf(o.key)),
          created: row.completed,
          expireAt: o.expireAt,
        });
      }
      return { page: pageNo, size, total: count.get({ keyId, now }) as number, items };
    },

    async promote(keyId, ids, opts) {
      if (opts.budgetLeftUsd !== null && opts.budgetLeftUsd <= 0) {
        return { accepted: [], rejected: ids.map((id) => ({ id, reason: 'insufficient' as const })) };
      }
      let used = deps.capBytes > 0 ? persistentBytes(keyId) : 0;
      return batch(keyId, ids, async (o) => {
        if (deps.capBytes <= 0 || o.persistent) return 'not_promotable';
        const bytes = o.bytes ?? (await sizeOf(o.key));
        if (bytes === null) return 'already_deleted';
        if (used + bytes > deps.capBytes) return 'cap_exceeded';
        used += bytes;
        return (out) => {
          out.persistent = true;
          out.expireAt = PERSISTENT_EXPIRE_AT;
          out.bytes = bytes;
        };
      });
    },

    async remove(keyId, ids) {
      return batch(keyId, ids, async (o) => {
        await blobs.remove(o.key);
        return (out) => {
          out.deleted = true;
          delete out.persistent;
          // its link has ended too, so the sweep treats the task as expired (and lets its sources go)
          out.expireAt = Math.min(out.expireAt, nowSec());
        };
      });
    },
  };
}
