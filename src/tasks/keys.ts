import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../contract/ids.js';
import type { KeyRow, Store } from '../store/types.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  webhookSecret: string | null;
  budgetUsd: number | null;
  source: 'db' | 'env';
  created: number;
  revoked: number | null;
}

export interface KeyService {
  create(name: string, opts?: { webhookSecret?: string; budgetUsd?: number }): Promise<{ record: ApiKeyRecord; key: string }>;
  list(): Promise<ApiKeyRecord[]>;
  revoke(id: string): Promise<boolean>;
  authenticate(token: string): Promise<ApiKeyRecord | null>;
  get(id: string): Promise<ApiKeyRecord | null>;
  /** keys stored in the database that are not revoked */
  activeCount(): Promise<number>;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** `sk-` + 40 base62-ish characters (240 bits). */
export function mintKey(): string {
  return `sk-${randomBytes(30).toString('base64url').replace(/[-_]/g, 'x')}`;
}

const toRecord = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  webhookSecret: r.webhook_secret,
  budgetUsd: r.budget_usd,
  source: r.source,
  created: r.created,
  revoked: r.revoked,
});

/**
 * API keys, stored as SHA-256 hashes (keys are random and long, so a fast hash is enough). Keys given
 * in RESHOOT_API_KEYS are admitted too; their rows are kept (source `env`) so their tasks have an owner.
 */
export async function createKeyService(deps: { store: Store; envKeys: readonly string[]; defaultWebhookSecret?: string; /** ms clock for the lookup cache; Date.now by default */ now?: () => number }): Promise<KeyService> {
  const repo = deps.store.keys;
  const now = deps.now ?? Date.now;
  const envHashes = new Set(deps.envKeys.map(hashKey));
  // Lookups are cached briefly: polling clients authenticate on every request, and a key revoked
  // by `reshoot keys revoke` in another process must stop working within seconds.
  const CACHE_MS = 5000;
  const cache = new Map<string, { rec: ApiKeyRecord | null; at: number }>();

  for (const key of deps.envKeys) {
    const h = hashKey(key);
    const row: KeyRow = { id: `key_env_${h.slice(0, 16)}`, name: 'env', prefix: key.slice(0, 7), webhook_secret: null, budget_usd: null, source: 'env', created: Math.floor(Date.now() / 1000), revoked: null };
    // several processes may start at once on one database: the first insert wins, the others keep it
    await repo.insert({ ...row, hash: h }, { ifAbsent: true });
  }

  return {
    async create(name, opts = {}) {
      const key = mintKey();
      const row: KeyRow = {
        id: newId('key'),
        name,
        prefix: key.slice(0, 7),
        webhook_secret: opts.webhookSecret ?? null,
        budget_usd: opts.budgetUsd ?? null,
        source: 'db',
        created: Math.floor(Date.now() / 1000),
        revoked: null,
      };
      await repo.insert({ ...row, hash: hashKey(key) });
      return { record: toRecord(row), key };
    },
    list: async () => (await repo.list()).map(toRecord),
    async revoke(id) {
      cache.clear();
      return repo.revoke(id, Math.floor(Date.now() / 1000));
    },
    async authenticate(token) {
      const h = hashKey(token);
      const hit = cache.get(h);
      if (hit && now() - hit.at < CACHE_MS) return hit.rec;
      const row = await repo.byHash(h);
      let rec: ApiKeyRecord | null = null;
      if (row && row.revoked === null && (row.source === 'db' || envHashes.has(h))) rec = toRecord(row);
      if (cache.size > 10_000) cache.clear();
      cache.set(h, { rec, at: now() });
      return rec;
    },
    async get(id) {
      const row = await repo.byId(id);
      return row ? toRecord(row) : null;
    },
    activeCount: () => repo.activeCount(),
  };
}
