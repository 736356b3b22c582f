import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Matte cache on disk, keyed by a hash of the decoded pixels. Each entry holds the alpha and the
 * decontaminated colours of the edge pixels (0 < alpha < 255), so a hit rebuilds the whole cutout
 * without the model. Writes are atomic (temp file + rename) because several engine threads share the
 * directory; the total size is bounded by evicting the least recently used entries.
 */
export interface MaskCache {
  key(pixels: Buffer, width: number, height: number, salt: string): string;
  get(key: string, width: number, height: number): Promise<CachedMatte | null>;
  put(key: string, matte: CachedMatte): Promise<void>;
}

export interface CachedMatte {
  width: number;
  height: number;
  alpha: Buffer;
  /** RGB of the edge pixels, in pixel order */
  edgeColours: Buffer;
}

const MAGIC = 0x52534d31; // 'RSM1'
const HEADER = 16;

export function createMaskCache(dir: string, maxBytes: number): MaskCache {
  let ready: Promise<void> | null = null;
  let approxBytes = -1;
  let puts = 0;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true }).then(() => undefined));
  const fileOf = (key: string) => path.join(dir, `${key}.matte`);

  async function evict(): Promise<void> {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.matte'));
    const entries = (await Promise.all(names.map(async (n) => {
      try { const s = await stat(path.join(dir, n)); return { n, size: s.size, t: s.mtimeMs }; } catch { return null; }
    }))).filter((e) => e !== null);
    let total = entries.reduce((s, e) => s + e.size, 0);
    entries.sort((a, b) => a.t - b.t);
    for (const e of entries) {
      if (total <= maxBytes) break;
      await unlink(path.join(dir, e.n)).catch(() => undefined);
      total -= e.size;
    }
    approxBytes = total;
  }

  return {
    key(pixels, width, height, salt) {
      return createHash('sha256').update(`${salt}:${width}x${height}:`).update(pixels).digest('hex');
    },
    async get(key, width, height) {
      if (maxBytes <= 0) return null;
      let buf: Buffer;
      try { buf = await readFile(fileOf(key)); } catch { return null; }
      try {
        if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) return null;
        const w = buf.readUInt32LE(4), h = buf.readUInt32LE(8), alphaLen = buf.readUInt32LE(12);
        if (w !== width || h !== height) return null;
        const alpha = inflateRawSync(buf.subarray(HEADER, HEADER + alphaLen));
        const edgeColours = inflateRawSync(buf.subarray(HEADER + alphaLen));
        if (alpha.length !== w * h) return null;
        // recency for eviction; a failure here only makes the entry look older
        const now = new Date();
        utimes(fileOf(key), now, now).catch(() => undefined);
        return { width: w, height: h, alpha, edgeColours };
      } catch {
        return null; // a damaged entry is a miss; it will be overwritten
      }
    },
    async put(key, m) {
      if (maxBytes <= 0) return;
      await ensureDir();
      const a = deflateRawSync(m.alpha, { level: 1 });
      const e = deflateRawSync(m.edgeColours, { level: 1 });
      const head = Buffer.alloc(HEADER);
      head.writeUInt32LE(MAGIC, 0); head.writeUInt32LE(m.width, 4); head.writeUInt32LE(m.height, 8); head.writeUInt32LE(a.length, 12);
      const body = Buffer.concat([head, a, e]);
      if (body.length > maxBytes) return;
      const tmp = path.join(dir, `.${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, body);
      await rename(tmp, fileOf(key));
      // other threads write here too and this tally only sees our writes: rescan now and then
      approxBytes = approxBytes < 0 ? -1 : approxBytes + body.length;
      if (approxBytes < 0 || approxBytes > maxBytes || ++puts % 16 === 0) await evict();
    },
  };
}
