import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Measured batch throughput, kept in the data dir so `--dry-run` can estimate a duration from what
 * this machine (or this server) actually did: effective milliseconds per image at a concurrency.
 */

export interface ThroughputRecord {
  msPerItem: number;
  parallel: number;
  items: number;
  at: number;
}

const FILE = 'batch-throughput.json';

/** Relative cost of a resolution, by output pixels (1K = 1). */
export const RES_WEIGHT: Record<string, number> = { '1K': 1, '2K': 4, '4K': 13.7 };

function read(dataDir: string): Record<string, ThroughputRecord> {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, 'stats', FILE), 'utf8')) as Record<string, ThroughputRecord>;
  } catch {
    return {};
  }
}

export function recordThroughput(dataDir: string, key: string, rec: ThroughputRecord): void {
  const all = read(dataDir);
  all[key] = rec;
  mkdirSync(path.join(dataDir, 'stats'), { recursive: true });
  writeFileSync(path.join(dataDir, 'stats', FILE), `${JSON.stringify(all, null, 2)}\n`);
}

/**
 * Milliseconds per image at `parallel` for `mode` ("local" or a server origin) and a resolution:
 * the same resolution when measured, else another one scaled by pixel count.
 */
export function lookupThroughput(dataDir: string, mode: string, resolution: string, parallel: number): { msPerItem: number; from: ThroughputRecord; resolution: string } | null {
  const all = read(dataDir);
  const exact = all[`${mode}|${resolution}`];
  const [res, rec] = exact
    ? [resolution, exact]
    : (Object.entries(all)
        .filter(([k]) => k.startsWith(`${mode}|`))
        .map(([k, v]) => [k.split('|')[1]!, v] as const)[0] ?? [resolution, undefined]);
  if (!rec) return null;
  const scale = (RES_WEIGHT[resolution] ?? 1) / (RES_WEIGHT[res] ?? 1);
  return { msPerItem: (rec.msPerItem * scale * rec.parallel) / Math.max(1, parallel), from: rec, resolution: res };
}
