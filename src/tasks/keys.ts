import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../contract/ids.js';
import type { Db } from '../store/sqlite/database.js';

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
  create(name: string, opts?: { webhookSecret?: string; budgetUsd?: number }): { record: ApiKeyRecord; key: string };
  list(): ApiKeyRecord[];
  revoke(id: string): boolean;
  authenticate(token: string): ApiKeyRecord | null;
  get(id: string): ApiKeyRecord | null;
  /** keys stored in the database that are not revoked */
  activeCount(): number;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** `sk-` + 40 base62-ish characters (240 bits). */
export function mintKey(): string {
  return `sk-${randomBytes(30).toString('base64url').replace(/[-_]/g, 'x')}`;
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  webhook_secret: string | null;
  budget_usd: number | null;
  source: 'db' | 'env';
  created: number;
  revoked: number | null;
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
export function createKeyService(deps: { db: Db; envKeys: readonly string[]; defaultWebhookSecret?: string; /** ms clock for the lookup cache; Date.now by default */ now?: () => number }): KeyService {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const byHash = db.prepare(`SELECT * FROM api_keys WHERE hash = ?`);
  const insert = db.prepare(
    `INSERT INTO api_keys (id, name, hash, prefix, webhook_secret, budget_usd, source, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const envHashes = new Set(deps.envKeys.map(hashKey));
  // Lookups are cached briefly: polling clients authenticate on every request, and a key revoked
  // by `reshoot keys revoke` in another process must stop working within seconds.
  const CACHE_MS = 5000;
  const cache = new Map<string, { rec: ApiKeyRecord | null; at: number }>();

  for (const key of deps.envKeys) {
    const h = hashKey(key);
    if (!byHash.get(h)) {
      insert.run(`key_env_${h.slice(0, 16)}`, 'env', h, key.slice(0, 7), null, null, 'env', Math.floor(Date.now() / 1000));
    }
  }

  return {
    create(name, opts = {}) {
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
      insert.run(row.id, row.name, hashKey(key), row.prefix, row.webhook_secret, row.budget_usd, row.source, row.created);
      return { record: toRecord(row), key };
    },
    list: () => (db.prepare(`SELECT * FROM api_keys ORDER BY created, id`).all() as KeyRow[]).map(toRecord),
    revoke(id) {
      cache.clear();
      return db.prepare(`UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL`).run(Math.floor(Date.now() / 1000), id).changes > 0;
    },
    authenticate(token) {
      const h = hashKey(token);
      const hit = cache.get(h);
      if (hit && now() - hit.at < CACHE_MS) return hit.rec;
      const row = byHash.get(h) as KeyRow | undefined;
      let rec: ApiKeyRecord | null = null;
      if (row && row.revoked === null && (row.source === 'db' || envHashes.has(h))) rec = toRecord(row);
      if (cache.size > 10_000) cache.clear();
      cache.set(h, { rec, at: now() });
      return rec;
    },
    get(id) {
      const row = db.prepare(`SELECT * FROM api_keys WHERE id = ?`).get(id) as KeyRow | undefined;
      return row ? toRecord(row) : null;
    },
    activeCount: () => (db.prepare(`SELECT count(*) AS n FROM api_keys WHERE revoked IS NULL AND source = 'db'`).get() as { n: number }).n,
  };
}
