import fs from 'node:fs';

export interface DiskSpace {
  /** bytes free to this process under the data dir, or null when the filesystem cannot say */
  free(): number | null;
  /** false once free space is under the floor: writes would fail, so requests that write are refused */
  ok(): boolean;
  /** the floor, in bytes */
  readonly minFreeBytes: number;
}

/**
 * Watches the free space under `dir` (statfs, read at most once per `maxAgeMs`; a call costs a few
 * microseconds). Below `minFreeBytes` the API refuses creates and uploads with 503 before they write
 * anything, and /readyz says not ready, so a filling disk is met before SQLite or a blob write fails.
 */
export function createDiskSpace(dir: string, minFreeBytes: number, opts: { maxAgeMs?: number; now?: () => number } = {}): DiskSpace {
  const maxAgeMs = opts.maxAgeMs ?? 1000;
  const now = opts.now ?? Date.now;
  let last = { at: -Infinity, free: null as number | null };
  const free = (): number | null => {
    if (now() - last.at < maxAgeMs) return last.free;
    let bytes: number | null;
    try {
      const s = fs.statfsSync(dir);
      bytes = s.bavail * s.bsize;
    } catch {
      bytes = null; // not there yet, or a filesystem statfs cannot read: the writes themselves will tell
    }
    last = { at: now(), free: bytes };
    return bytes;
  };
  return {
    free,
    ok: () => {
      const bytes = free();
      return bytes === null || bytes >= minFreeBytes;
    },
    minFreeBytes,
  };
}
