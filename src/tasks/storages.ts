import { TASK_ID_RE } from '../contract/ids.js';
import type { BlobStore } from '../store/blobs/local-blobs.js';
import type { UrlSigner } from '../store/blobs/signed-urls.js';
import type { Store } from '../store/types.js';
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
  hasRoom(keyId: string): Promise<boolean>;
  list(keyId: string, page: number, size: number): Promise<{ page: number; size: number; total: number; items: StoredItem[] }>;
  promote(keyId: string, ids: readonly string[], opts: { budgetLeftUsd: number | null }): Promise<StorageBatchResult>;
  remove(keyId: string, ids: readonly string[]): Promise<StorageBatchResult>;
}

export interface StorageDeps {
  store: Store;
  blobs: BlobStore;
  signer: UrlSigner;
  /** each key's room for persistent outputs, in bytes; 0 turns promotion off */
  capBytes: number;
  nowSec?: () => number;
}

/**
 * Outputs as hiapi's storage endpoints see them: every output of a successful task whose file still
 * exists, temp (it goes when its link expires) or persistent (kept until deleted). Promotion signs the
 * output's link to PERSISTENT_EXPIRE_AT and takes it out of the expiry sweep; the path stays the same.
 * Deletion removes the file at once. Both answer per id, with hiapi's partial-success shape.
 */
export function createStorageService(deps: StorageDeps): StorageService {
  const { blobs, signer } = deps;
  const repo = deps.store.outputs;
  const nowSec = deps.nowSec ?? (() => Math.floor(Date.now() / 1000));

  const sizeOf = async (key: string): Promise<number | null> => (await blobs.stat(key))?.size ?? null;

  const parseId = (id: string): { taskId: string; index: number } | null => {
    const m = /^(.+)\.(\d{1,3})$/.exec(id);
    return m && TASK_ID_RE.test(m[1]!) ? { taskId: m[1]!, index: Number(m[2]) } : null;
  };

  /**
   * Runs `prepare` (the checks and file work, which may wait) on each named output the key owns; it
   * answers a rejection or the change to make. The change is applied to the row as it is then, in one
   * store transaction, so two requests on one task never undo each other.
   */
  async function batch(
    keyId: string,
    ids: readonly string[],
    prepare: (o: StoredOutput) => Promise<StorageRejection | ((o: StoredOutput) => void)>,
  ): Promise<StorageBatchResult> {
    const result: StorageBatchResult = { accepted: [], rejected: [] };
    const now = nowSec();
    for (const id of ids) {
      const ref = parseId(id);
      const before = ref ? (await repo.owned(ref.taskId, keyId))?.[ref.index] : undefined;
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
      await repo.edit(ref.taskId, keyId, (outs) => {
        const o = outs[ref.index];
        if (!o) return false;
        outcome(o);
        return true;
      });
      result.accepted.push(id);
    }
    return result;
  }

  return {
    hasRoom: async (keyId) => deps.capBytes > 0 && (await repo.persistentBytes(keyId)) < deps.capBytes,

    async list(keyId, pageNo, size) {
      const now = nowSec();
      const rows = await repo.list(keyId, now, size, (pageNo - 1) * size);
      const items: StoredItem[] = [];
      for (const row of rows) {
        const o = row.output;
        items.push({
          id: `${row.taskId}.${row.index}`,
          task_id: row.taskId,
          model: row.model,
          url: signer.sign(o.key, o.expireAt),
          type: 'image',
          storage_tier: o.persistent ? 'persistent' : 'temp',
          bytes: o.bytes ?? (await sizeOf(o.key)),
          created: row.completed,
          expireAt: o.expireAt,
        });
      }
      return { page: pageNo, size, total: await repo.count(keyId, now), items };
    },

    async promote(keyId, ids, opts) {
      if (opts.budgetLeftUsd !== null && opts.budgetLeftUsd <= 0) {
        return { accepted: [], rejected: ids.map((id) => ({ id, reason: 'insufficient' as const })) };
      }
      let used = deps.capBytes > 0 ? await repo.persistentBytes(keyId) : 0;
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
